"""How long a closed request keeps the requester's contact (core/retention.py).

After the rule's days the contact name and mobile typed on a closed request are blanked; the request
itself, its place, category, times and rating stay, so the rates and reports keep counting it."""

from django.utils.translation import gettext_lazy as _

from linjialin.core import retention


def _purge(cutoff) -> int:
    from django.db.models import Q

    from .models import ServiceRequest

    return (
        ServiceRequest.objects.filter(closed_at__lt=cutoff)
        .filter(~Q(contact_name="") | ~Q(contact_mobile=""))
        .update(contact_name="", contact_mobile="")
    )


retention.register("closed_request_contacts", _("Contact details on closed requests"), purge=_purge)


def forget_requester_contact(user_id: int | None, mobile: str = "") -> int:
    """Blank the contact typed on the requests of a person who moved out (places.residency); the
    requests themselves stay. Joins the caller's transaction; the caller writes the audit event."""
    from django.db.models import Q

    from .models import ServiceRequest

    who = Q()
    if user_id:
        who |= Q(requester_id=user_id)
    if mobile:
        who |= Q(contact_mobile=mobile)
    if not who:
        return 0
    return (
        ServiceRequest.objects.filter(who)
        .filter(~Q(contact_name="") | ~Q(contact_mobile=""))
        .update(contact_name="", contact_mobile="")
    )
