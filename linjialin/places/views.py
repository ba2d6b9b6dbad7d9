from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from linjialin.core.masking import mask_id_number, mask_mobile
from linjialin.core.scope import scope_for

from . import selectors, services
from .models import Level


@login_required
def browse(request):
    """Start of the place browser: the highest places the user may see (one → straight to it)."""
    tops = selectors.top_places_for_user(request.user)
    if len(tops) == 1:
        return redirect("places:detail", place_id=tops[0].pk)
    return render(request, "places/browse.html", {"tops": [(p, selectors.place_totals(p)) for p in tops]})


@login_required
def detail(request, place_id):
    """Any node of the tree: counts for its children, the profile of an entrance, residents of a household."""
    user = request.user
    place = selectors.get_place_for_user(user, place_id)
    context = {
        "place": place,
        "crumbs": selectors.breadcrumbs(user, place),
        "can": {
            "households": scope_for(user, "places.view_household").covers(place.path),
            "edit": scope_for(user, "places.edit_roster").covers(place.path),
            "unmask": scope_for(user, "places.unmask").covers(place.path),
            "export": scope_for(user, "places.export_roster").covers(place.path),
            "coverage": scope_for(user, "accounts.manage_coverage").covers(place.path),
        },
    }
    if place.level == Level.HOUSEHOLD:
        if not context["can"]["households"]:
            raise PermissionDenied
        residents = selectors.household_residents(user, place)
        for r in residents:
            r.mobile_masked, r.id_masked = mask_mobile(r.mobile), mask_id_number(r.id_number)
        context["residents"] = residents
    else:
        context["totals"] = selectors.place_totals(place)
        context["children"] = selectors.children_with_counts(user, place)
        if place.level == Level.ENTRANCE:
            context["figures"] = selectors.entrance_figures(place)
    return render(request, "places/detail.html", context)


@login_required
@require_POST
def unmask(request, resident_id):
    """htmx: reveal a resident's full numbers after a reason is given (audited)."""
    resident = selectors.get_resident_for_user(request.user, resident_id)
    try:
        numbers = services.unmask_resident(request.user, resident, reason=request.POST.get("reason", ""))
    except ValidationError as exc:
        resident.mobile_masked, resident.id_masked = mask_mobile(resident.mobile), mask_id_number(resident.id_number)
        context = {"r": resident, "errors": exc.messages, "can": {"unmask": True}}
        return render(request, "places/_unmask.html", context, status=422)
    return render(request, "places/_unmask.html", {"r": resident, "numbers": numbers})


def profile_edit(request, place_id):  # being written
    raise Http404


def resident_tags(request, resident_id):  # being written
    raise Http404
