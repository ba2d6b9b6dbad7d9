from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST

from . import selectors, services

PAGE_SIZE = 30


@login_required
def inbox(request):
    """One row per object (its newest message, how many, read or not), newest first."""
    page = Paginator(selectors.grouped_inbox(request.user), PAGE_SIZE).get_page(request.GET.get("page"))
    groups = selectors.groups(request.user, page.object_list)
    return render(request, "notifications/inbox.html", {"page": page, "groups": groups})


@login_required
@require_POST
def mark_read(request, pk):
    notification = selectors.get_for_user(request.user, pk)
    services.mark_read(request.user, notification)
    link = notification.link
    if request.POST.get("open") and link and url_has_allowed_host_and_scheme(link, allowed_hosts=None):
        return redirect(link)
    return redirect("notifications:inbox")


@login_required
@require_POST
def mark_all_read(request):
    services.mark_all_read(request.user)
    return redirect("notifications:inbox")
