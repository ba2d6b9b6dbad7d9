"""What the request pages and the audit page call each timeline event (RequestEvent.kind: the workflow's
transition names and a few events of their own), in the viewer's language."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

EVENT_LABELS = {
    "submitted": _("submitted"),
    "photos": _("photos added"),
    "supervised": _("put under supervision (督办)"),
    "overdue": _("past its time limit: put under supervision (督办)"),
    "accept": _("accepted"),
    "contact": _("requester contacted"),
    "resolve": _("resolved"),
    "escalate": _("escalated"),
    "return": _("returned to the dispatcher"),
    "dispatch": _("dispatched"),
    "not_accept": _("not accepted"),
    "request_extension": _("extension requested"),
    "grant_extension": _("extension granted"),
    "refuse_extension": _("extension refused"),
    "call_back": _("rated / called back"),
    # the phone call-back by staff who did not handle it (callbacks.py)
    "callback_call": _("phone call-back (回访)"),
    "callback_sampled": _("picked for a sample call-back (回访抽查)"),
    "close_unreachable": _("closed: the requester could not be reached"),
    "callback_reopen": _("reopened after a call-back (重办)"),
    "close": _("closed"),
    "reopen": _("reopened (重办)"),
    "merge": _("merged"),
    "unmerge": _("taken out of a merge"),
    "withdraw": _("withdrawn"),
    "reassign": _("reassigned to another unit"),
    "whistle": _("units summoned (吹哨)"),
    "co_handle": _("co-handling units added"),
    "check_in": _("a unit reported for duty (报到)"),
    "report_back": _("a unit reported back"),
    "recategorise": _("category corrected"),
    "co_requester_joined": _("a neighbour has the same problem (我也遇到)"),
    "co_rating": _("a neighbour rated it"),
    "merged_in": _("another request merged into this one"),
    "unmerged_out": _("a merged request taken out again"),
    # intake (service_requests/intake.py)
    "diverted": _("passed on: another office can settle it"),
    "diversion_overridden": _("submitted as a normal request after a keyword match"),
    "repeat_linked": _("linked to the open request (no new facts)"),
    "repeat": _("asked about again"),
    "repeat_new_facts": _("submitted as new (new facts)"),
}


def event_label(kind: str, data: dict | None = None) -> str:
    """The event's name for people; an unknown kind says so in words rather than show its code.
    `data` (the event's) tells "after" photos of the result from the others."""
    if kind == "photos" and (data or {}).get("after"):
        return str(_("photos after the work added"))
    if kind == "callback_call" and data is not None:
        if not data.get("reached"):
            return str(_("phone call-back (回访): no answer"))
        return str(_("phone call-back (回访): reached"))
    label = EVENT_LABELS.get(kind)
    return str(label) if label is not None else str(_("other step"))
