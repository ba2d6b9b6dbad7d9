# TEMPORARY: replaced by the coverage and import pages being written now.
from django.http import Http404


def coverage(request):
    raise Http404


def roster_import(request):
    raise Http404
