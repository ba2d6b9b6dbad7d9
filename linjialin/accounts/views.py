from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpResponse, HttpResponseBadRequest
from django.shortcuts import redirect, render
from django.utils import translation
from django.views.decorators.http import require_POST

from linjialin.core.middleware import client_ip
from linjialin.core.scope import scope_for
from linjialin.places import selectors as place_selectors
from linjialin.places.models import Level, Place

from . import selectors, services, throttle
from .forms import MobileLoginForm
from .home import home_sections
from .models import RoleGrant
from .roles import ROLES, Perm, Role
from .selectors import home_roles


class LoginView(auth_views.LoginView):
    """The one sign-in page (the Django admin's login redirects here). While the throttle asks an
    attempt to wait, it is refused with 429 and Retry-After before the password is checked, with the
    same page and wait whether the number is registered or not."""

    template_name = "accounts/login.html"
    authentication_form = MobileLoginForm
    redirect_authenticated_user = True

    def post(self, request, *args, **kwargs):
        mobile = (request.POST.get("username") or "").strip()[:11]
        wait = throttle.wait_seconds(mobile, client_ip(request))
        if wait > 0:
            response = render(
                request,
                "accounts/login_wait.html",
                {"wait_seconds": wait, "next": self.get_redirect_url()},
                status=429,
            )
            response["Retry-After"] = str(wait)
            return response
        return super().post(request, *args, **kwargs)

    def form_valid(self, form):
        response = super().form_valid(form)
        language = form.get_user().language
        if not self.get_redirect_url():
            response = redirect(translated_home(language))
        response.set_cookie("django_language", language, samesite="Lax")  # on the response actually sent
        return response


def translated_home(language: str) -> str:
    with translation.override(language):
        from django.urls import reverse

        return reverse("home")


@login_required
def home(request):
    """One home page; what it shows depends on the roles the user holds: first the work waiting
    (home.py: the resident's submit button, queues, desks, rates, each one tap from its task), then one
    card per current grant with the place's facts.

    resident → my household and the entrance's 楼门长; 楼门长 → the entrance profile and quick links;
    层长 / 楼长 → their households / entrances; staff → their place with counts and the tools they may
    use (coverage, import, audit); subdistrict-level roles → counts per community.
    """
    user = request.user
    perms = {p for p in Perm if not scope_for(user, p).is_empty}
    grants = home_roles(user)
    cards = [_home_card(user, grant) for grant in grants]
    resident, sections = home_sections(user, grants)
    tools = {
        "coverage": Perm.MANAGE_COVERAGE in perms,
        "import": Perm.IMPORT_ROSTER in perms,
        "audit": Perm.VIEW_AUDIT in perms,
    }
    return render(
        request,
        "accounts/home.html",
        {
            "cards": cards,
            "resident": resident,
            "sections": sections,
            "held_perms": perms,
            "Perm": Perm,
            "tools": tools,
        },
    )


def _home_card(user, grant) -> dict:
    place, role = grant.place, Role(grant.role)
    card = {"grant": grant, "role": role, "spec": ROLES[role], "place": place, "kind": "staff"}
    if role == Role.RESIDENT:
        card["kind"] = "resident"
        card["entrance"] = place.parent
        card["entrance_leaders"] = [
            g.user.display_name
            for g in RoleGrant.objects.current()
            .filter(place_id=place.parent_id, role=Role.ENTRANCE_LEADER)
            .select_related("user")
        ]
    elif role == Role.ENTRANCE_LEADER:
        card["kind"] = "entrance"
        card["figures"] = place_selectors.entrance_figures(place)
        card["can_edit"] = scope_for(user, Perm.EDIT_ROSTER).covers(place.path)
    elif role == Role.FLOOR_LEADER:
        card["kind"] = "floor"
        card["households"] = list(
            Place.objects.visible_to(user, Perm.VIEW_PLACE).filter(parent=place, floor=grant.floor)
        )
    elif role == Role.BUILDING_LEADER:
        card["kind"] = "building"
        card["entrances"] = list(
            Place.objects.visible_to(user, Perm.VIEW_PLACE).filter(
                building=grant.building, level=Level.ENTRANCE
            )
        )
    else:
        card["totals"] = place_selectors.place_totals(place)
        if place.level == Level.SUBDISTRICT:
            card["kind"] = "subdistrict"
            card["children"] = place_selectors.children_with_counts(user, place)
            if scope_for(user, Perm.MANAGE_COVERAGE).covers(place.path):
                card["coverage"] = {c.community.pk: c for c in selectors.coverage_by_community(place)}
                for row in card["children"]:
                    row.coverage = card["coverage"].get(row.place.pk)
        elif place.level == Level.COMMUNITY and scope_for(user, Perm.MANAGE_COVERAGE).covers(place.path):
            coverage = selectors.coverage_by_community(place)
            card["coverage_row"] = coverage[0] if coverage else None
        card["can"] = {
            "coverage": scope_for(user, Perm.MANAGE_COVERAGE).covers(place.path),
            "import": scope_for(user, Perm.IMPORT_ROSTER).covers(place.path),
            "audit": scope_for(user, Perm.VIEW_AUDIT).covers(place.path),
            "export": scope_for(user, Perm.EXPORT_ROSTER).covers(place.path),
        }
    return card


@login_required
@require_POST
def set_language(request):
    """Remember the language on the account as well as in the cookie."""
    language = request.POST.get("language", "zh-hans")
    try:
        services.set_language(request.user, language=language)
    except ValidationError as exc:
        return HttpResponseBadRequest(" ".join(exc.messages), content_type="text/plain; charset=utf-8")
    response = redirect(translated_home(language))
    response.set_cookie("django_language", language, samesite="Lax")
    return response


def healthz(request):
    return HttpResponse("ok", content_type="text/plain")
