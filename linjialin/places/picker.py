"""The household picker: a search box instead of a list of every household in scope.

One implementation for every page where staff choose a household (代报, a mutual-aid post for a
neighbour). The form keeps the chosen household in a hidden input; the search answers at most
selectors.PICKER_LIMIT matches, through the scope policy. With JavaScript the results come as you type
(htmx) and a tap fills the hidden input (static/places/picker.js); without it the page's form posts
back to itself (`is_round_trip`) and the page is drawn again with the results or the pick.
"""

from __future__ import annotations

import re

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.shortcuts import render

from . import selectors

FIELD_NAME = re.compile(r"^[a-z][a-z_]{0,30}$")
picker_households = selectors.picker_households


def search(user, purpose: str, query: str) -> tuple[list, bool]:
    """(matches, more): `more` when the query matches more than the picker shows."""
    found = selectors.search_households_for_user(user, purpose, query, limit=selectors.PICKER_LIMIT + 1)
    return found[: selectors.PICKER_LIMIT], len(found) > selectors.PICKER_LIMIT


def chosen_household(user, purpose: str, value):
    """The household behind a hidden input's value, if the user may choose it (else None)."""
    if not str(value or "").isdigit():
        return None
    return selectors.picker_households(user, purpose).filter(pk=int(value)).first()


def is_round_trip(data, field: str = "household") -> bool:
    """Did the form post back for the picker (a search or a pick without JavaScript), not to submit?"""
    return f"{field}_search" in data or f"{field}_pick" in data


def round_trip_initial(data, field: str = "household") -> dict:
    """The posted values as the redrawn form's initial values, with the picked household chosen."""
    initial = {key: data.get(key) for key in data}
    if data.get(f"{field}_pick"):
        initial[field] = data.get(f"{field}_pick")
    return initial


def picker_context(user, purpose: str, form, *, field: str = "household", data=None) -> dict:
    """What templates/places/_household_picker.html needs: the bound field, the chosen household and,
    after a search without JavaScript, the results."""
    data = data or {}
    bound = form[field]
    query = (data.get(f"{field}_q") or "").strip()[: selectors.PICKER_QUERY_MAX]
    results, more = search(user, purpose, query) if f"{field}_search" in data else ([], False)
    return {
        "field": bound,
        "purpose": purpose,
        "chosen": chosen_household(user, purpose, bound.value()),
        "query": query,
        "results": results,
        "more": more,
        "searched": f"{field}_search" in data,
    }


@login_required
def household_search(request):
    """The picker's results as you type (an htmx fragment)."""
    purpose = request.GET.get("for", "")
    field = request.GET.get("field", "household")
    if purpose not in selectors.PICKER_PERMS or not FIELD_NAME.match(field):
        raise PermissionDenied
    query = (request.GET.get(f"{field}_q") or "").strip()[: selectors.PICKER_QUERY_MAX]
    results, more = search(request.user, purpose, query)
    context = {"field_name": field, "query": query, "results": results, "more": more, "searched": True}
    return render(request, "places/_household_results.html", context)
