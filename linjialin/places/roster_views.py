"""Roster pages: upload an import (with a dry run), download the template, export a place's roster."""

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import FileResponse, Http404, HttpResponse, StreamingHttpResponse
from django.shortcuts import render
from django.utils.translation import gettext_lazy as _

from linjialin.core.reasons import is_meaningful
from linjialin.core.scope import scope_for
from linjialin.core.uploads import SpreadsheetUploadForm

from . import roster, selectors
from .models import TagType


class ImportForm(SpreadsheetUploadForm):
    max_megabytes = 50
    file_label = _("Roster file (.xlsx or .csv)")


def _require_import(user) -> None:
    if scope_for(user, roster.IMPORT_PERM).is_empty:
        raise PermissionDenied


@login_required
def roster_import(request):
    """Upload form; shows the counts of a good import or every problem of a bad one."""
    _require_import(request.user)
    report = None
    if request.method == "POST":
        form = ImportForm(request.POST, request.FILES)
        if form.is_valid():
            upload = form.cleaned_data["file"]
            report = roster.import_roster(
                request.user, upload, filename=upload.name, dry_run=form.cleaned_data["dry_run"]
            )
    else:
        form = ImportForm()
    context = {
        "form": form,
        "report": report,
        "columns": roster.COLUMNS,
        "tags": TagType.objects.all(),
        "tenures": list(roster.TENURE_LABEL.values()),
        "relations": list(roster.RELATION_LABEL.values()),
    }
    status = 422 if report is not None and not report.ok else 200
    return render(request, "places/import.html", context, status=status)


@login_required
def import_template(request, fmt):
    """The import template: header row and two example rows, as .xlsx or .csv (UTF-8 with BOM)."""
    _require_import(request.user)
    if fmt not in ("xlsx", "csv"):
        raise Http404
    content_type = (
        "text/csv; charset=utf-8"
        if fmt == "csv"
        else "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    )
    response = HttpResponse(roster.template_bytes(fmt), content_type=content_type)
    response["Content-Disposition"] = f'attachment; filename="roster-template.{fmt}"'
    return response


@login_required
def roster_export(request, place_id, fmt):
    """Everything under a place (xlsx or CSV with BOM). Masked unless ?full=1&reason=… by a user who
    may unmask. Outside the user's view scope → 404; visible but no export permission → 403."""
    place = selectors.get_place_for_user(request.user, place_id)
    if fmt not in ("xlsx", "csv"):
        raise Http404
    full = request.GET.get("full") == "1"
    reason = request.GET.get("reason", "")
    if full and scope_for(request.user, roster.UNMASK_PERM).covers(place.path) and not is_meaningful(reason):
        # ask for the reason first (a plain GET form back to this URL)
        return render(request, "places/import_export_reason.html", {"place": place, "fmt": fmt}, status=200)
    export = roster.export_roster(request.user, place, fmt=fmt, full=full, reason=reason)
    if export.file is not None:
        response = FileResponse(
            export.file, as_attachment=True, filename=export.filename, content_type=export.content_type
        )
    else:
        response = StreamingHttpResponse(export.chunks, content_type=export.content_type)
        response["Content-Disposition"] = f'attachment; filename="{export.filename}"'
    response["X-Export-Rows"] = str(export.rows)
    return response
