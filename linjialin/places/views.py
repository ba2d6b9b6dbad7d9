from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from linjialin.core.masking import mask_id_number, mask_mobile
from linjialin.core.scope import scope_for

from . import selectors, services
from .forms import EntranceProfileForm, ResidentTagForm
from .models import Level, TagType


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
            "move_out": scope_for(user, "places.import_roster").covers(place.path),
            "unmask": scope_for(user, "places.unmask").covers(place.path),
            "export": scope_for(user, "places.export_roster").covers(place.path),
            "coverage": scope_for(user, "accounts.manage_coverage").covers(place.path),
            "sensitive": scope_for(user, "places.view_sensitive").covers(place.path),
        },
    }
    if place.level == Level.HOUSEHOLD:
        if not context["can"]["households"]:
            raise PermissionDenied
        residents = selectors.household_residents(user, place)
        for r in residents:
            r.mobile_masked, r.id_masked = mask_mobile(r.mobile), mask_id_number(r.id_number)
        context["residents"] = residents
        if context["can"]["edit"]:
            context["tag_types"] = _tag_choices(context["can"]["sensitive"])
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
        resident.mobile_masked, resident.id_masked = (
            mask_mobile(resident.mobile),
            mask_id_number(resident.id_number),
        )
        context = {"r": resident, "errors": exc.messages, "can": {"unmask": True}}
        return render(request, "places/_unmask.html", context, status=422)
    return render(request, "places/_unmask.html", {"r": resident, "numbers": numbers})


def _tag_choices(sensitive: bool) -> list[TagType]:
    tags = TagType.objects.all()
    return list(tags if sensitive else tags.filter(sensitive=False))


@login_required
def profile_edit(request, place_id):
    """Edit the entered parts of an entrance profile (e-bikes, WeChat group, spare keys, notes)."""
    user = request.user
    place = selectors.get_place_for_user(user, place_id)
    if place.level != Level.ENTRANCE:
        raise Http404
    if not scope_for(user, "places.edit_roster").covers(place.path):
        raise PermissionDenied
    figures = selectors.entrance_figures(place)
    initial = {name: getattr(figures, name) for name in services.PROFILE_FIELDS}
    status = 200
    if request.method == "POST":
        form = EntranceProfileForm(request.POST, initial=initial, households=figures.households)
        if form.is_valid():
            changed = {name: form.cleaned_data[name] for name in form.changed_data}
            try:
                if changed:
                    services.update_entrance_profile(user, place, **changed)
            except ValidationError as exc:
                errors = exc.message_dict.items() if hasattr(exc, "error_dict") else [(None, exc.messages)]
                for field, field_errors in errors:
                    for error in field_errors:
                        form.add_error(field if field in form.fields else None, error)
            else:
                if changed:
                    messages.success(request, _("The entrance profile is saved."))
                else:
                    messages.info(request, _("Nothing was changed."))
                return redirect("places:detail", place_id=place.pk)
        status = 422
    else:
        form = EntranceProfileForm(initial=initial, households=figures.households)
    form.mark_invalid()
    context = {"place": place, "form": form, "figures": figures, "crumbs": selectors.breadcrumbs(user, place)}
    return render(request, "places/profile_edit.html", context, status=status)


def _tags_block(request, resident, *, errors=(), done="", form=None, status=200):
    household = resident.household
    can = {"edit": True, "sensitive": scope_for(request.user, "places.view_sensitive").covers(household.path)}
    r = next(x for x in selectors.household_residents(request.user, household) if x.pk == resident.pk)
    context = {
        "r": r,
        "can": can,
        "tag_types": _tag_choices(can["sensitive"]),
        "tag_errors": list(errors),
        "tag_done": done,
        "tag_form": form if errors else None,
    }
    return render(request, "places/_resident_tags.html", context, status=status)


@login_required
@require_http_methods(["GET", "POST"])
def resident_tags(request, resident_id):
    """Add or remove a tag on a resident (POST). A sensitive tag needs the source of consent.

    GET answers the resident's tag block (for htmx). After a POST, htmx gets the block back; a plain
    form is redirected to the household page with a message.
    """
    user = request.user
    resident = selectors.get_resident_for_user(user, resident_id)
    if not scope_for(user, "places.edit_roster").covers(resident.path):
        raise PermissionDenied
    if request.method == "GET":
        return _tags_block(request, resident)
    form = ResidentTagForm(request.POST)
    errors: list[str] = []
    done = ""
    if form.is_valid():
        tag, action = form.cleaned_data["tag"], form.cleaned_data["action"]
        try:
            if action == "add":
                services.tag_resident(
                    user, resident, tag=tag, consent_source=form.cleaned_data["consent_source"]
                )
                done = _("Tag added.")
            else:
                services.untag_resident(user, resident, tag=tag)
                done = _("Tag removed.")
        except ValidationError as exc:
            errors = exc.messages
    else:
        errors = [e for field_errors in form.errors.values() for e in field_errors]
    status = 422 if errors else 200
    if request.htmx:
        return _tags_block(request, resident, errors=errors, done=done, form=form, status=status)
    for e in errors:
        messages.error(request, _("%(name)s: %(error)s") % {"name": resident.name, "error": e})
    if done:
        messages.success(request, done)
    return redirect(reverse("places:detail", args=[resident.household_id]) + f"#resident-{resident.pk}")


@login_required
@require_POST
def move_out(request, resident_id):
    """A resident moved out of the household: anonymise them (places.residency) and go back."""
    from .residency import move_out_resident

    resident = selectors.get_resident_for_user(request.user, resident_id)
    if not scope_for(request.user, "places.import_roster").covers(resident.path):
        raise PermissionDenied
    try:
        move_out_resident(request.user, resident, reason=request.POST.get("reason", ""))
    except ValidationError as exc:
        for message in exc.messages:
            messages.error(request, message)
    else:
        messages.success(request, _("The resident is recorded as moved out; their personal data is removed."))
    return redirect("places:detail", resident.household_id)
