# Being written (roster import/export pages). Until then these answer 404.
from django.http import Http404


def roster_import(request):
    raise Http404


def import_template(request, fmt):
    raise Http404


def roster_export(request, place_id, fmt):
    raise Http404
