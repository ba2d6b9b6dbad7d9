# Being written (楼门长 coverage pages). Until then these answer 404.
from django.http import Http404


def coverage(request):
    raise Http404


def coverage_community(request, place_id):
    raise Http404


def coverage_assign(request, place_id):
    raise Http404


def coverage_end(request, grant_id):
    raise Http404
