"""`emergency_banners`: the active emergency episodes of the user's community, for the banner that
base.html includes on every page (templates/mutual_aid/emergency/_banner.html). One query for a logged-in
user (their grants are already loaded for the nav); none for a visitor."""

from __future__ import annotations

from linjialin.core.scope import scope_for

from .emergency_selectors import EMERGENCY, banner_episodes_for_user, is_member, is_volunteer


def emergency_banner(request):
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    episodes = banner_episodes_for_user(user)
    if not episodes:
        return {}
    scope = scope_for(user, EMERGENCY)
    for e in episodes:  # staff, volunteers and the team follow the banner to the episode's page
        e.linked = scope.covers(e.path) or is_volunteer(user, e) or is_member(user, e.pk)
    return {"emergency_banners": episodes}
