"""Pages for duplicates (docs/duplicates.md): similar open requests while a resident types (an htmx
fragment), 我也遇到 (join), a co-requester's own page and rating, and the dispatcher's duplicate
candidates with merge and unmerge.

Reads through duplicates.py / selectors (404 when missing or not near the user); writes through services.
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from linjialin.core.errors import Conflict
from linjialin.notifications.services import mark_subject_read, subject_of

from . import duplicates, selectors, services
from .models import Satisfaction
from .workflow import dispatcher, workflow

MAX_TEXT = 2000


@login_required
@require_GET
def similar(request):
    """The fragment beside the submit form: similar open requests at the shared places of the resident's
    compound for the text being typed (`description`), each with a 我也遇到 button. Empty for someone
    without a home household, or for a text too short to compare."""
    user = request.user
    household = duplicates.home_household(user)
    text = request.GET.get("description", "")[:MAX_TEXT]
    items = duplicates.similar_open(household, text, user=user) if household is not None else []
    return render(request, "service_requests/_similar.html", {"items": items})


def _to_co_page(request, req):
    url = reverse("requests:co_rate", args=[req.pk])
    if request.headers.get("HX-Request"):
        response = HttpResponse(status=204)
        response["HX-Redirect"] = url
        return response
    return redirect(url)


@login_required
@require_POST
def join(request, pk):
    """我也遇到: join an open request near the resident's home instead of opening a new work order."""
    user = request.user
    req = duplicates.get_joinable(user, pk)
    try:
        services.join_request(user, req, note=request.POST.get("note", ""))
    except PermissionDenied as exc:
        return HttpResponse(str(exc), status=403, content_type="text/plain; charset=utf-8")
    messages.success(
        request,
        _("You joined request %(number)s: you will be told when it is resolved.") % {"number": req.number},
    )
    return _to_co_page(request, req)


def _co_context(user, req, row, errors=None, data=None) -> dict:
    parent = duplicates.followed(req)
    return {
        "req": req,
        "parent": parent,
        "row": row,
        "text": duplicates.shown_text(parent.description, 300),
        "voices": 1 + parent.co_requesters.count(),
        "may_rate": services.may_rate_as_co_requester(row, parent),
        "choices": Satisfaction.choices,
        "errors": errors or {},
        "data": data or {},
    }


def co_rate_context(user, req) -> dict | None:
    """For the request's detail page: the context of _co_rate.html when the user is a co-requester of
    `req`, else None (docs/duplicates.md: how the detail template includes it)."""
    row = duplicates.co_requester_row(user, req.pk)
    if row is None:
        return None
    return {
        "row": row,
        "may_rate": services.may_rate_as_co_requester(row, req),
        "choices": Satisfaction.choices,
    }


@login_required
def co_rate(request, pk):
    """A co-requester's page: the work order they joined (its state, its result) and, once it is
    resolved, their own rating. 404 for anyone who is not a co-requester of it."""
    user = request.user
    row = duplicates.co_requester_row(user, pk)
    if row is None:
        raise Http404
    req = row.request
    mark_subject_read(user, subject_of(req))  # opening it reads the co-requester's notices about it
    if request.method == "POST":
        post = request.POST
        solved = {"yes": True, "no": False}.get(post.get("solved", ""))
        try:
            if solved is None:
                raise ValidationError({"solved": _("Say whether the problem is solved.")})
            services.rate_as_co_requester(
                user,
                req,
                solved=solved,
                satisfaction=post.get("satisfaction", ""),
                comment=post.get("comment", ""),
            )
        except ValidationError as exc:
            errors = exc.message_dict if hasattr(exc, "error_dict") else {"satisfaction": exc.messages}
            context = _co_context(user, req, row, errors, post)
            return render(request, "service_requests/co_request.html", context, status=422)
        except Conflict as exc:
            messages.error(request, str(exc))
            return redirect("requests:co_rate", pk=req.pk)
        messages.success(request, _("Thank you: your rating is recorded."))
        return redirect("requests:co_rate", pk=req.pk)
    return render(request, "service_requests/co_request.html", _co_context(user, req, row))


# --- the dispatcher -------------------------------------------------------------------------------------
@login_required
@require_GET
def duplicates_fragment(request, pk):
    """The desk fragment: duplicate candidates for a request with their similarity, and the merge forms
    (this one into a candidate, a candidate into this one) where the state allows; for a merged
    request, the unmerge form. Dispatchers only (403 for others who may see the request)."""
    user = request.user
    req = selectors.get_request_for_user(user, pk)
    if not dispatcher(user, req):
        raise PermissionDenied
    return render(request, "service_requests/_duplicates.html", duplicates_context(user, req))


def duplicates_context(user, req) -> dict:
    items = duplicates.candidates_for(req)
    can_merge = {t.name for t in workflow.available(req, user)}
    rows = []
    for item in items:
        rows.append(
            {
                "item": item,
                "merge_this": "merge" in can_merge,
                "merge_other": "merge" in {t.name for t in workflow.available(item.request, user)},
            }
        )
    return {
        "req": req,
        "rows": rows,
        "may_unmerge": "unmerge" in can_merge and req.merged_into_id is not None,
        "merged": list(req.merged.only("pk", "number", "state")),
    }


@login_required
@require_POST
def unmerge(request, pk):
    user = request.user
    req = selectors.get_request_for_user(user, pk)
    try:
        services.unmerge_request(user, req, reason=request.POST.get("reason", "")[:500])
    except ValidationError as exc:
        messages.error(request, " ".join(m for msgs in exc.message_dict.values() for m in msgs))
    except Conflict as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, _("The request is its own work order again."))
    return redirect("requests:detail", pk=req.pk)
