"""The community's queue of residents' correction requests (places.corrections)."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from linjialin.core.masking import mask_id_number, mask_mobile
from linjialin.core.scope import scope_for

from . import corrections
from .models import CorrectionField, CorrectionRequest


def _shown(c: CorrectionRequest) -> None:
    r = c.resident
    c.current = {
        CorrectionField.NAME: r.name,
        CorrectionField.MOBILE: mask_mobile(r.mobile),
        CorrectionField.ID_NUMBER: mask_id_number(r.id_number),
        CorrectionField.BIRTH_YEAR: r.birth_year or "",
        CorrectionField.RELATION: r.get_relation_display(),
    }[c.field]


@login_required
def correction_list(request):
    if scope_for(request.user, corrections.DECIDE_PERM).is_empty:
        raise PermissionDenied
    rows = list(corrections.open_corrections_for_user(request.user)[:200])
    for c in rows:
        _shown(c)
    return render(request, "places/corrections.html", {"rows": rows})


@login_required
@require_POST
def correction_decide(request, correction_id):
    if scope_for(request.user, corrections.DECIDE_PERM).is_empty:
        raise PermissionDenied
    row = corrections.open_corrections_for_user(request.user).filter(pk=correction_id).first()
    if row is None:
        visible = CorrectionRequest.objects.visible_to(request.user, corrections.DECIDE_PERM)
        if not visible.filter(pk=correction_id).exists():
            from django.http import Http404

            raise Http404
        messages.error(request, _("This request has already been decided."))
        return redirect("places:corrections")
    try:
        if request.POST.get("decision") == "accept":
            corrections.accept_correction(request.user, row)
            messages.success(request, _("Corrected; the resident is told."))
        else:
            corrections.refuse_correction(request.user, row, reason=request.POST.get("reason", ""))
            messages.success(request, _("Refused; the resident is told why."))
    except ValidationError as exc:
        for message in exc.messages:
            messages.error(request, message)
    return redirect("places:corrections")
