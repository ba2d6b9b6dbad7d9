"""`linjialin demo`: load the demo subdistrict 通运街道 (or `--scale district`), print the demo logins."""

import time

from django.core.management.base import BaseCommand, CommandError

from linjialin.places import demo
from linjialin.service_requests.demo_year import PER_HOUSEHOLD


class Command(BaseCommand):
    help = (
        "Load the demo subdistrict 通运街道 (10 communities, 630 entrances, demo logins for every role) "
        "into an empty database, or a synthetic district of ~300,000 households with --scale district."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--seed",
            type=int,
            default=demo.DEFAULT_SEED,
            help=f"random seed; the same seed gives the same data (default {demo.DEFAULT_SEED})",
        )
        parser.add_argument(
            "--scale",
            choices=("subdistrict", "district"),
            default="subdistrict",
            help="subdistrict: 通运街道 (default); district: plus synthetic subdistricts",
        )
        parser.add_argument(
            "--households",
            type=int,
            default=demo.DISTRICT_HOUSEHOLDS,
            help="--scale district: households in the whole district (default %(default)s)",
        )
        parser.add_argument(
            "--communities",
            type=int,
            default=None,
            help="only the first N communities of 通运街道 (a smaller demo)",
        )
        parser.add_argument(
            "--requests-per-household",
            type=float,
            default=None,
            help=(
                f"micro-requests per household in the demo year (default {PER_HOUSEHOLD}, which loads in "
                "about two minutes; a real 社区 sees about 0.3, which takes about three times longer)"
            ),
        )
        parser.add_argument(
            "--if-empty",
            action="store_true",
            help="do nothing (and succeed) when the database already has places",
        )
        parser.add_argument("--logins", action="store_true", help="only print the demo logins")
        parser.add_argument("--no-progress", action="store_true", help="no progress bar")
        parser.add_argument("--no-logins", action="store_true", help="do not print the logins after loading")

    def handle(self, *args, **options):
        if options["logins"]:
            self.stdout.write(demo.logins_table())
            return
        if options["communities"] is not None and not 1 <= options["communities"] <= len(demo.TONGYUN):
            raise CommandError(f"--communities must be between 1 and {len(demo.TONGYUN)}.")
        if options["households"] < 1:
            raise CommandError("--households must be a positive number.")
        rate = options["requests_per_household"]
        if rate is not None and not 0 < rate <= 2:
            raise CommandError("--requests-per-household must be more than 0 and at most 2.")
        if demo.has_places():
            if options["if_empty"]:
                self.stdout.write("Demo data already loaded (the database has places): nothing to do.")
                return
            raise CommandError(
                "The database already has places: the demo loads only into an empty database. "
                "Use a fresh database, or --if-empty to skip quietly."
            )
        progress = not options["no_progress"]
        started = time.perf_counter()
        if options["scale"] == "district":
            result = demo.load_district(
                seed=options["seed"], households=options["households"], progress=progress
            )
        else:
            result = demo.load_demo(
                seed=options["seed"], communities=options["communities"], progress=progress
            )
        from linjialin.service_requests import demo as requests_demo

        units, year = requests_demo.load(progress=progress, seed=result.seed, per_household=rate)
        from linjialin.mediation import demo as mediation_demo

        centre = mediation_demo.load()
        from linjialin.hotspots import demo as hotspots_demo
        from linjialin.mutual_aid import demo as aid_demo

        hot = hotspots_demo.load()
        aid = aid_demo.load(seed=result.seed)
        c = result.counts
        self.stdout.write(
            self.style.SUCCESS(
                f"Loaded in {result.seconds:.1f} s (seed {result.seed}): "
                f"{c.subdistricts} subdistricts, {c.communities} communities, {c.grids} grids, "
                f"{c.compounds} compounds, {c.buildings} buildings, {c.entrances} entrances, "
                f"{c.households} households, {c.residents} residents, {c.tags} tags, "
                f"{c.users} users, {c.grants} role grants, {units} handling units, "
                f"{year.get('requests', 0)} requests ({year.get('rated', 0)} rated, "
                f"{year.get('escalated', 0) + year.get('sweep_escalated', 0)} escalated, "
                f"{year.get('dispatched', 0)} dispatched, {year.get('whistles', 0)} 吹哨), "
                f"mediation: {centre.get('sessions', 0)} screening sessions, "
                f"{centre.get('consultations', 0)} consultations, {centre.get('cases', 0)} cases "
                f"({centre.get('resolved', 0)} resolved this year), "
                f"{hot.get('hotspots', 0)} hotspots, {hot.get('themes', 0)} 每月一题 theme, "
                f"mutual aid: {aid.get('posts', 0)} posts ({aid.get('finished', 0)} handed over), "
                f"{aid.get('care_visits', 0)} care visits, {aid.get('episodes', 0)} emergency episode. "
                f"All in {time.perf_counter() - started:.0f} s."
            )
        )
        if not options["no_logins"]:
            self.stdout.write("")
            self.stdout.write(demo.logins_table())
