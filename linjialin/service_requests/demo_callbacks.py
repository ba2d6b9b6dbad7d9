"""The demo year's call-backs (demo_year.py): the requester rates a resolved request, or staff who took
no part in it call back once the rating wait is over (callbacks.py), and the monthly sample is called a
few days after the beat drew it. A mixin of demo_year._Loop: it uses the loop's clock, people and fates."""

from __future__ import annotations

from datetime import timedelta

from django.utils import timezone

from linjialin.accounts.models import User
from linjialin.core import demo_clock

from . import callbacks, services
from . import demo_texts as T
from .models import CallBack, Satisfaction, ServiceRequest, State

S = State
SAID = {  # the words noted on a call-back when the requester adds nothing
    Satisfaction.SATISFIED: "问题解决了，满意",
    Satisfaction.BASICALLY: "基本解决了",
    Satisfaction.UNSATISFIED: "还没解决，不满意",
}


class CallBacks:
    """The rating and call-back steps of demo_year._Loop."""

    def _resolved(self, req: ServiceRequest, f) -> None:
        """The requester rates; without one (代报, patrol, phone), or when they never do, staff who did not
        handle it call back once the rating wait is over (callbacks.py)."""
        if req.requester_id is None or f.silent:
            self._call_back(req, f)
            return
        solved, rating, comment = self._answer(f)
        ok = self.attempt(
            lambda: services.rate_request(
                req.requester, req, solved=solved, satisfaction=rating, comment=comment
            ),
            "unsatisfied" if rating == Satisfaction.UNSATISFIED else "rated",
        )
        if ok and req.state == S.IN_PROGRESS:
            self.next(req.pk, 8)

    def _answer(self, f) -> tuple[bool, str, str]:
        """What the requester says: 不满意 while the fate has some left (each reopens), else its rating."""
        if f.unsatisfied:
            f.unsatisfied -= 1
            return False, Satisfaction.UNSATISFIED, self.rng.choice(T.COMMENTS["unsatisfied"])
        rating = f.rating
        solved = rating != Satisfaction.UNSATISFIED or self.rng.random() < 0.5
        if rating == Satisfaction.UNSATISFIED:
            rating = Satisfaction.BASICALLY  # a last 不满意 after one reopen is counted as 基本满意 here
        return solved, rating, self.rng.choice(T.COMMENTS[rating])

    def caller_for(self, req: ServiceRequest) -> User | None:
        """A call-back login that took no part in the handling: the dispatcher, else the community's staff."""
        entrance, _ = self.context.get(req.pk, (req.place, None))
        community = self.places.community_of(entrance).path
        for user in (
            self.people.dispatcher,
            self.people.community.get(community),
            self.people.secretary.get(community),
        ):
            if user is not None and callbacks.may_call_back(user, req):
                return user
        return None

    def _call_back(self, req: ServiceRequest, f) -> None:
        due = req.resolved_at + timedelta(days=self.rules.callback_days)
        if timezone.now() < due:
            self.year.at(self.later(due, self.rng.uniform(0.5, 20)), lambda: self.tick(req.pk))
            return
        caller = self.caller_for(req)
        if caller is None:
            self.counts["callback_no_caller"] += 1
            return
        if f.unreachable or self.rng.random() < 0.12:  # nobody answers: tried again after the retry wait
            ok = self.attempt(
                lambda: callbacks.record_callback(caller, req, reached=False, words="无人接听"),
                "callback_unanswered",
            )
            if ok and req.state == S.RESOLVED:
                retry = timezone.now() + timedelta(hours=self.rules.callback_retry_hours + 1)
                self.year.at(self.later(retry, 0), lambda: self.tick(req.pk))
            return
        solved, rating, comment = self._answer(f)
        ok = self.attempt(
            lambda: callbacks.record_callback(
                caller, req, reached=True, solved=solved, satisfaction=rating, words=comment or SAID[rating]
            ),
            "called_back",
        )
        if ok and req.state == S.IN_PROGRESS:
            self.next(req.pk, 8)

    # --- the monthly call-back sample -------------------------------------------------------------------
    def plan_samples(self) -> None:
        """The beat's sample on the first of each month, each sampled request called a few days later."""
        day = self.start.replace(day=1)
        while day <= self.now.date():
            if day > self.start:
                self.year.at(demo_clock.at(day, 7, 20), self.sample)
            day = (day + timedelta(days=32)).replace(day=1)

    def sample(self) -> None:
        if not callbacks.sample_month():
            return
        month = (timezone.localdate() - timedelta(days=1)).replace(day=1)
        today = timezone.localdate()
        for rid in CallBack.objects.filter(reason="sample", month=month).values_list("request_id", flat=True):
            when = self.office(today + timedelta(days=self.rng.choice((1, 2, 3))))
            self.year.at(when, lambda r=rid: self.sampled_call(r))

    def sampled_call(self, rid: int) -> None:
        req = self.load(rid, "place")
        caller = self.caller_for(req)
        if caller is None:
            return
        if self.rng.random() < 0.1:  # the call finds the problem back: reopened, handled again
            ok = self.attempt(
                lambda: callbacks.record_callback(
                    caller, req, reached=True, solved=False, satisfaction=Satisfaction.UNSATISFIED,
                    words="过了几天问题又出现了，还没解决",
                ),
                "sample_reopened",
            )  # fmt: skip
            if ok and ServiceRequest.objects.filter(pk=rid, state=S.IN_PROGRESS).exists():
                self.next(rid, 8)
            return
        rating = req.satisfaction if self.rng.random() < 0.9 else Satisfaction.BASICALLY
        self.attempt(
            lambda: callbacks.record_callback(
                caller, req, reached=True, solved=True, satisfaction=rating, words="问题已解决，谢谢回访"
            ),
            "sample_called",
        )
