from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.shortcuts import render

from .models import AuditEvent
from .scope import scope_for


@login_required
def audit_list(request):
    scope = scope_for(request.user, "audit.view")
    if scope.is_empty:
        raise PermissionDenied
    events = AuditEvent.objects.filter(scope.q("path")).select_related("actor")[:200]
    return render(request, "core/audit_list.html", {"events": events})
