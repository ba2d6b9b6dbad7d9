"""The dispatcher's hotline import page: upload 12345 work orders, see every problem or the counts,
download the template. Only dispatchers (requests.dispatch) may use it (others: 403, like the roster
import page)."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext_lazy as _

from linjialin.core.scope import scope_for
from linjialin.core.uploads import SpreadsheetUploadForm

from . import hotline


class HotlineForm(SpreadsheetUploadForm):
    max_megabytes = 10
    file_label = _("Work-order file (.xlsx or .csv)")


def _require_dispatcher(user) -> None:
    if scope_for(user, hotline.IMPORT_PERM).is_empty:
        raise PermissionDenied


@login_required
def hotline_import(request):
    _require_dispatcher(request.user)
    report = None
    if request.method == "POST":
        form = HotlineForm(request.POST, request.FILES)
        if form.is_valid():
            upload = form.cleaned_data["file"]
            report = hotline.import_file(
                request.user, upload, upload.name, dry_run=form.cleaned_data["dry_run"]
            )
    else:
        form = HotlineForm()
    status = 422 if (report is not None and not report.ok) or form.errors else 200
    context = {"form": form, "report": report, "columns": hotline.COLUMNS}
    return render(request, "service_requests/hotline.html", context, status=status)


@login_required
def hotline_template(request, fmt):
    _require_dispatcher(request.user)
    if fmt not in ("xlsx", "csv"):
        raise Http404
    content_type = (
        "text/csv; charset=utf-8"
        if fmt == "csv"
        else "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    )
    response = HttpResponse(hotline.template_bytes(fmt), content_type=content_type)
    response["Content-Disposition"] = f'attachment; filename="hotline-template.{fmt}"'
    return response
