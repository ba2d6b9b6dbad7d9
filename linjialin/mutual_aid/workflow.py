"""A post's states and transitions (近邻互助), one table read by services, pages and docs.

    open ──pick──▶ matched ──finish──▶ done
      ├──expire (the sweep)──▶ expired
      ├──withdraw (the author)──▶ withdrawn ◀── matched (withdraw)
      └──hide (a moderator)──▶ hidden ◀── matched (hide); hidden ──restore──▶ open, or back to
         matched when a helper had been chosen (restore_matched)

The author picks one "我能帮" response and marks the hand-off done; a moderator (mutual_aid.moderate over
the post's household) hides and restores; the sweep (actor None) expires open posts.
"""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from linjialin.core.scope import scope_for
from linjialin.core.workflow import Transition, Workflow

from .models import Post, PostState

S = PostState


def author(actor, post) -> bool:
    return actor is not None and post.author_id == getattr(actor, "pk", None)


def moderator(actor, post) -> bool:
    return actor is not None and scope_for(actor, "mutual_aid.moderate").covers(post.path)


def system(actor, post) -> bool:
    return actor is None


def author_or_moderator(actor, post) -> bool:
    return author(actor, post) or moderator(actor, post)


workflow = Workflow(
    model=Post,
    states=PostState,
    transitions=[
        Transition("pick", {S.OPEN}, S.MATCHED, author, _("choose this helper"), "the author"),
        Transition("finish", {S.MATCHED}, S.DONE, author, _("mark as done"), "the author"),
        Transition("expire", {S.OPEN}, S.EXPIRED, system, _("expire"), "the sweep, at expires_at"),
        Transition(
            "withdraw", {S.OPEN, S.MATCHED}, S.WITHDRAWN, author_or_moderator, _("withdraw"), "the author"
        ),
        Transition(
            "hide",
            {S.OPEN, S.MATCHED},
            S.HIDDEN,
            moderator,
            _("hide the post"),
            "a moderator (mutual_aid.moderate), with the reason",
        ),
        Transition(
            "restore", {S.HIDDEN}, S.OPEN, moderator, _("restore the post"), "a moderator (no helper chosen)"
        ),
        Transition(
            "restore_matched",
            {S.HIDDEN},
            S.MATCHED,
            moderator,
            _("restore the post"),
            "a moderator, when a helper had been chosen before it was hidden",
        ),
    ],
)

LIVE_STATES = (S.OPEN,)  # shown on the open page and in the live feed
