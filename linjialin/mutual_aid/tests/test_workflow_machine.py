"""A hypothesis state machine over the post workflow: random responses, picks, done, withdrawals, hiding,
restoring, sweeps (widening and expiry, time moving on) through the services. A move the table does not
allow changes nothing (no state, no audit event); an allowed one lands on the table's target; and the
invariants hold: a matched or done post has exactly one chosen response and one hand-off, the others are
not chosen; contact is shown to the two sides only and only after the pick; the reach never exceeds
max_reach and never shrinks; one FeedEntry per level reached."""

from __future__ import annotations

from datetime import timedelta

from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule, run_state_machine_as_test

from linjialin.core.errors import Conflict
from linjialin.core.models import AuditEvent
from linjialin.core.workflow import TransitionNotAllowed
from linjialin.mutual_aid import selectors
from linjialin.mutual_aid.models import AidRules, FeedEntry, Handoff, Post, PostState, Response, ResponseState
from linjialin.mutual_aid.services import posts
from linjialin.mutual_aid.workflow import workflow

from .test_posts_fixtures import _english, need, resident  # noqa: F401

S = PostState


def test_the_post_workflow_as_a_state_machine(tree, entrance_leader_a):
    author = resident("13700001070", "求助人", tree.household_a1)
    helpers = [resident(f"1370000107{i}", f"邻居{i}", tree.household_a2) for i in (1, 2)]
    moderator = entrance_leader_a
    AidRules.objects.update(posts_per_day=1000, responses_per_hour=1000)
    counter = iter(range(10_000))

    class PostMachine(RuleBasedStateMachine):
        def __init__(self):
            super().__init__()
            self.post = need(author, tree.household_a1, text=f"求助 {next(counter)}", urgency="normal")
            self.now = timezone.now()
            self.max_reach_seen = self.post.reach

        def _try(self, call, name=None):
            before = Post.objects.get(pk=self.post.pk).state
            audits = AuditEvent.objects.count()
            try:
                call()
            except (TransitionNotAllowed, ValidationError, PermissionDenied, Conflict):
                assert Post.objects.get(pk=self.post.pk).state == before
                assert AuditEvent.objects.count() == audits
                self.post.refresh_from_db()
                return False
            self.post.refresh_from_db()
            if name is not None:
                assert before in workflow[name].sources, f"{name} happened from {before}"
                assert self.post.state == workflow[name].target
            assert AuditEvent.objects.count() > audits
            return True

        @rule(which=st.integers(0, 1))
        def respond(self, which):
            if Response.objects.filter(post=self.post, helper=helpers[which]).exists():
                return  # a second tap returns the first response (tested elsewhere)
            if self._try(lambda: posts.respond(helpers[which], self.post, household=tree.household_a2)):
                assert self.post.first_response_at is not None and self.post.widen_at is None

        @rule(which=st.integers(0, 1), mode=st.sampled_from(["door", "in_person", "deliver"]))
        def pick(self, which, mode):
            response = Response.objects.filter(post=self.post, helper=helpers[which]).first()
            if response is None:
                return
            self._try(lambda: posts.pick(author, self.post, response, mode=mode), "pick")

        @rule()
        def finish(self):
            self._try(lambda: posts.finish(author, self.post, thanks="谢谢"), "finish")

        @rule(by_moderator=st.booleans())
        def withdraw(self, by_moderator):
            actor = moderator if by_moderator else author
            self._try(lambda: posts.withdraw(actor, self.post, reason="不需要了"), "withdraw")

        @rule()
        def hide(self):
            self._try(lambda: posts.hide(moderator, self.post, reason="核实中"), "hide")

        @rule()
        def restore(self):
            self._try(lambda: posts.restore(moderator, self.post), "restore")

        @rule()
        def a_stranger_tries_everything(self):
            stranger = helpers[0]
            for call in (
                lambda: posts.finish(stranger, self.post),
                lambda: posts.hide(stranger, self.post, reason="x"),
                lambda: posts.restore(stranger, self.post),
                lambda: posts.withdraw(stranger, self.post),
            ):
                self._try(call)

        @rule(minutes=st.sampled_from([10, 31, 60, 24 * 60, 3 * 24 * 60]))
        def time_passes(self, minutes):
            self.now += timedelta(minutes=minutes)
            before = self.post.state
            posts.sweep(self.now)
            self.post.refresh_from_db()
            if before == S.OPEN and self.post.expires_at <= self.now:
                assert self.post.state == S.EXPIRED
            elif before != S.OPEN:
                assert self.post.state == before

        @invariant()
        def the_hand_off_matches_the_state(self):
            post = Post.objects.get(pk=self.post.pk)
            chosen = Response.objects.filter(post=post, state=ResponseState.CHOSEN)
            handoffs = Handoff.objects.filter(post=post)
            if post.state in (S.MATCHED, S.DONE):
                assert chosen.count() == 1 and handoffs.count() == 1
                assert not Response.objects.filter(post=post, state=ResponseState.OFFERED).exists()
                helper = chosen.get().helper
                assert selectors.contact_for(author, post)["name"] == helper.display_name
                assert selectors.contact_for(helper, post) is not None
                other = next(h for h in helpers if h != helper)
                assert selectors.contact_for(other, post) is None
            if not handoffs.exists():
                assert not chosen.exists()
                for user in (author, *helpers, moderator):
                    assert selectors.contact_for(user, post) is None
            if post.state == S.DONE:
                assert post.done_at is not None and handoffs.get().done_at is not None

        @invariant()
        def the_reach_only_grows_up_to_max_reach(self):
            post = Post.objects.get(pk=self.post.pk)
            assert self.max_reach_seen <= post.reach <= post.max_reach
            self.max_reach_seen = post.reach
            levels = list(FeedEntry.objects.filter(post=post).values_list("reach", flat=True))
            assert levels == list(range(1, post.reach + 1))
            if post.first_response_at is not None:
                assert post.widen_at is None

    run_state_machine_as_test(
        PostMachine,
        settings=settings(
            max_examples=15,
            stateful_step_count=12,
            deadline=None,
            suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
        ),
    )
