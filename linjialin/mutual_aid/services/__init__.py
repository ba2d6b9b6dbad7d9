"""Every write of mutual aid (DESIGN.md §3: the only write path), in three modules:

- `posts`: needs and offers, reach widening and expiry (the sweep), "我能帮" responses, the pick, the
  contact each side shows, the hand-off, done and thanks, passing leftovers on, the medicine check,
  rate limits, reports and moderation, subscriptions (opt-in, quiet hours);
- `care`: the care list's visits (关爱走访): planning, recording, overdue;
- `emergency`: emergency mode: episodes, the temporary team, tasks per entrance, coverage, archiving.
"""

from . import care, emergency, posts

__all__ = ["care", "emergency", "posts"]
