"""The suggestions fragment (htmx): the resident submit page and the dispatcher desk include it; it
renders up to three buttons, each carrying `data-category-code`, which static/routing/suggest.js
copies into the page's category select (no inline script, strict CSP)."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import render
from django.views.decorators.http import require_http_methods

from linjialin.places.selectors import get_place_for_user

from . import selectors

MAX_TEXT = 2000


@login_required
@require_http_methods(["GET", "POST"])
def suggestions(request):
    """`text` (or `description`, the submit form's field) from the query or the form; optional
    `place`; optional `target`: the id of the select to set (default: the form's `category`)."""
    data = request.POST if request.method == "POST" else request.GET
    text = (data.get("text") or data.get("description") or "")[:MAX_TEXT]
    place = None
    place_id = data.get("place") or ""
    if place_id.isdigit():
        for perm in ("requests.submit", "requests.view"):
            try:
                place = get_place_for_user(request.user, int(place_id), perm)
                break
            except Http404:
                continue
    target = data.get("target", "")
    if not target.replace("_", "").replace("-", "").isalnum():
        target = ""
    return render(
        request,
        "routing/_suggestions.html",
        {"suggestions": selectors.suggest(text, place), "text": text, "target": target},
    )
