"""The call-back queue and the call record page (docs/callbacks.md). Reads through callbacks' selectors
(404 when the request is not the user's to call back: outside their scope, not due, or handled by
them); the write through callbacks.record_callback. A user with no requests.callback anywhere: 403."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from linjialin.core import audit
from linjialin.core.errors import Conflict
from linjialin.core.scope import scope_for

from . import callbacks
from .forms import BootstrapForm
from .labels import event_label
from .models import Satisfaction

PAGE_SIZE = 50
YES_NO = [("yes", gettext_lazy("Yes")), ("no", gettext_lazy("No"))]


def _radio():
    return forms.RadioSelect(attrs={"class": "form-check-input"})


class CallBackForm(BootstrapForm):
    reached = forms.TypedChoiceField(
        label=gettext_lazy("Did you reach the requester?"),
        choices=YES_NO,
        coerce=lambda v: v == "yes",
        widget=_radio(),
        error_messages={"required": gettext_lazy("Say whether you reached the requester.")},
    )
    solved = forms.TypedChoiceField(
        label=gettext_lazy("Solved, in the requester's words?"),
        choices=YES_NO,
        coerce=lambda v: v == "yes",
        empty_value=None,
        required=False,
        widget=_radio(),
    )
    satisfaction = forms.ChoiceField(
        label=gettext_lazy("How satisfied is the requester?"),
        choices=Satisfaction.choices,
        required=False,
        widget=_radio(),
    )
    words = forms.CharField(
        label=gettext_lazy("What the requester said"),
        max_length=1000,
        required=False,
        widget=forms.Textarea(attrs={"rows": 3, "class": "form-control form-control-lg"}),
    )


def _caller(user):
    if scope_for(user, callbacks.PERM).is_empty:
        raise PermissionDenied
    return user


@login_required
def queue(request):
    """The requests due for a phone call-back that the user may call (not those they handled)."""
    user = _caller(request.user)
    page = Paginator(callbacks.due_for_user(user), PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "service_requests/callbacks.html", {"page": page})


def _contact(user, req):
    """The requester's name and number in full: the caller has to dial it (audited, as elsewhere)."""
    name = req.contact_name or (req.requester.display_name if req.requester_id else "")
    mobile = req.contact_mobile or (req.requester.mobile if req.requester_id else "")
    audit.record("request.contact_viewed", actor=user, obj=req)
    return {"name": name, "mobile": mobile}


@login_required
def call(request, pk):
    user = _caller(request.user)
    req = callbacks.get_due_for_user(user, pk)
    form = CallBackForm(request.POST or None)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            data = form.cleaned_data
            try:
                callbacks.record_callback(
                    user,
                    req,
                    reached=data["reached"],
                    solved=data["solved"] if data["reached"] else None,
                    satisfaction=data["satisfaction"] if data["reached"] else "",
                    words=data["words"],
                )
            except ValidationError as exc:
                _errors_into(form, exc)
            except Conflict as exc:
                messages.error(request, str(exc))
                return redirect("requests:callbacks")
            else:
                messages.success(request, _("The call-back is recorded."))
                return redirect("requests:callbacks")
        form.mark_invalid()
        status = 422
    events = list(req.events.all())
    for e in events:
        e.label = event_label(e.kind, e.data)
    context = {
        "req": req,
        "form": form,
        "events": events,
        "tries": callbacks.tries(req),
        "contact": _contact(user, req),
    }
    return render(request, "service_requests/callback.html", context, status=status)


def _errors_into(form, exc: ValidationError) -> None:
    items = exc.message_dict.items() if hasattr(exc, "error_dict") else [(None, exc.messages)]
    for field, field_errors in items:
        for error in field_errors:
            form.add_error(field if field in form.fields else None, error)
