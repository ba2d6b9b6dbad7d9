"""My personal data: download everything held about me, ask for corrections (accounts.privacy)."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_POST

from linjialin.core.masking import mask_id_number, mask_mobile
from linjialin.places.corrections import request_correction
from linjialin.places.models import CorrectionField

from . import privacy


class CorrectionForm(forms.Form):
    resident = forms.TypedChoiceField(label=_("Whose record"), coerce=int)
    field = forms.ChoiceField(label=_("What is wrong"), choices=CorrectionField.choices)
    value = forms.CharField(label=_("The correct value"), max_length=50)
    note = forms.CharField(label=_("Note (optional)"), max_length=500, required=False)

    def __init__(self, *args, records=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["resident"].choices = [(r.pk, f"{r.name} · {r.household}") for r in records]


def _page(request, form=None, status=200):
    records = privacy.my_records(request.user)
    for r in records:
        r.mobile_masked, r.id_masked = mask_mobile(r.mobile), mask_id_number(r.id_number)
    context = {
        "records": records,
        "form": form or CorrectionForm(records=records),
        "corrections": list(privacy.my_corrections(request.user)[:50]),
    }
    return render(request, "accounts/my_data.html", context, status=status)


@login_required
def my_data(request):
    return _page(request)


@login_required
@require_POST
def my_data_download(request):
    content, name = privacy.download(request.user)
    response = HttpResponse(content, content_type="application/zip")
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    response["Cache-Control"] = "no-store"
    return response


@login_required
@require_POST
def my_data_correct(request):
    records = privacy.my_records(request.user)
    form = CorrectionForm(request.POST, records=records)
    if not form.is_valid():
        return _page(request, form, status=422)
    resident = next((r for r in records if r.pk == form.cleaned_data["resident"]), None)
    if resident is None:
        raise Http404
    try:
        request_correction(
            request.user,
            resident,
            field=form.cleaned_data["field"],
            value=form.cleaned_data["value"],
            note=form.cleaned_data["note"],
        )
    except ValidationError as exc:
        if hasattr(exc, "error_dict"):
            for field, errors in exc.message_dict.items():
                form.add_error(field if field in form.fields else None, errors)
        else:
            form.add_error(None, exc.messages)
        return _page(request, form, status=422)
    messages.success(
        request, _("Your request was sent to the community. You will get a notice when it is decided.")
    )
    return redirect("accounts:my_data")
