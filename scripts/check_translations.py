#!/usr/bin/env python
"""Fail when the zh-Hans catalogue is incomplete (DESIGN.md §5: CI fails on untranslated zh_Hans entries).

1. linjialin/locale/zh_Hans/LC_MESSAGES/django.po must exist and have no untranslated or fuzzy entry.
2. Unless --no-extract: the strings in the code today are extracted (Django's makemessages, in a
   temporary copy, so the working tree is not touched) and merged with the catalogue; any msgid the
   code uses but the catalogue does not translate is reported with where it is used.
The same applies to djangojs.po when it exists.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import polib

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "linjialin"
LOCALE = "zh_Hans"
CATALOGUES = PACKAGE / "locale" / LOCALE / "LC_MESSAGES"


def problems(po: polib.POFile, label: str) -> list[str]:
    found = []
    for entry in po:
        if entry.obsolete:
            continue
        where = ", ".join(f"{f}:{line}" for f, line in entry.occurrences[:3]) or "no location"
        msgid = entry.msgid if not entry.msgctxt else f"{entry.msgctxt}|{entry.msgid}"
        if "fuzzy" in entry.flags:
            found.append(f"{label}: fuzzy: {msgid!r} ({where})")
        elif not entry.translated():
            found.append(f"{label}: untranslated: {msgid!r} ({where})")
    return found


def extract_and_merge(domains: list[str]) -> dict[str, polib.POFile]:
    """makemessages over a copy of the package; returns the merged catalogues by domain."""
    with tempfile.TemporaryDirectory() as tmp:
        copy = Path(tmp) / "linjialin"
        shutil.copytree(PACKAGE, copy, ignore=shutil.ignore_patterns("__pycache__", "*.mo", "vendor"))
        env = {k: v for k, v in os.environ.items() if k != "DJANGO_SETTINGS_MODULE"}
        for domain in domains:
            subprocess.run(  # noqa: S603
                [
                    sys.executable,
                    "-m",
                    "django",
                    "makemessages",
                    "-l",
                    LOCALE,
                    "-d",
                    domain,
                    "--no-obsolete",
                    "--ignore",
                    "static/vendor/*",
                    "-v",
                    "0",
                ],
                cwd=copy,
                env=env,
                check=True,
            )
        return {d: polib.pofile(str(copy / "locale" / LOCALE / "LC_MESSAGES" / f"{d}.po")) for d in domains}


def main(argv: list[str]) -> int:
    django_po = CATALOGUES / "django.po"
    if not django_po.exists():
        print(f"FAIL: {django_po.relative_to(ROOT)} does not exist: the zh-Hans catalogue is missing.")
        return 1
    domains = ["django"] + (["djangojs"] if (CATALOGUES / "djangojs.po").exists() else [])
    issues: list[str] = []
    for domain in domains:
        issues += problems(polib.pofile(str(CATALOGUES / f"{domain}.po")), f"{domain}.po")
    if "--no-extract" not in argv:
        if not shutil.which("xgettext") or not shutil.which("msgmerge"):
            print("FAIL: gettext tools (xgettext, msgmerge) are not installed: apt-get install gettext")
            return 1
        committed = {
            d: {(e.msgctxt, e.msgid) for e in polib.pofile(str(CATALOGUES / f"{d}.po"))} for d in domains
        }
        for domain, merged in extract_and_merge(domains).items():
            new = [e for e in merged if not e.obsolete and (e.msgctxt, e.msgid) not in committed[domain]]
            issues += [
                f"{domain}.po: not in the catalogue (run makemessages): {e.msgid!r} "
                f"({', '.join(f'{f}:{n}' for f, n in e.occurrences[:3])})"
                for e in new
            ]
    if issues:
        print("\n".join(issues))
        print(f"FAIL: {len(issues)} zh-Hans catalogue problem(s).")
        return 1
    total = sum(len(polib.pofile(str(CATALOGUES / f"{d}.po")).translated_entries()) for d in domains)
    print(f"OK: zh-Hans catalogue complete ({total} translated entries).")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
