"""State machines as data: a table of transitions that the services, UI, API, permissions and docs read.

    Transition("accept", sources={"submitted"}, target="accepted", may=can_handle)

`Workflow.apply(obj, name, actor, **changes)` checks the source state and `may(actor, obj)`, then
moves the row with one compare-and-set UPDATE (`… WHERE pk = %s AND state = <the state we saw>`):
when two people act at once exactly one UPDATE matches; the other gets Conflict naming the state
the row is in now. It returns the transition so the service can write the timeline and audit events
in the same transaction. `available(obj, actor)` feeds the buttons a page shows.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from django.db import models
from django.utils.translation import gettext as _

from .errors import Conflict


class TransitionNotAllowed(Exception):
    """The transition does not start from the object's state, or the actor may not make it."""


def anyone(actor, obj) -> bool:
    return True


@dataclass(frozen=True)
class Transition:
    name: str
    sources: frozenset[str]
    target: str
    may: Callable[[object, object], bool] = anyone  # (actor, obj) -> bool
    label: str = ""
    who: str = ""  # for the generated docs: who may make it, in words

    def __init__(self, name, sources: Iterable[str], target, may=anyone, label="", who=""):
        object.__setattr__(self, "name", name)
        object.__setattr__(self, "sources", frozenset(sources))
        object.__setattr__(self, "target", target)
        object.__setattr__(self, "may", may)
        object.__setattr__(self, "label", label or name)
        object.__setattr__(self, "who", who)


@dataclass
class Workflow:
    model: type[models.Model]
    states: type[models.TextChoices]
    transitions: list[Transition]
    state_field: str = "state"
    _by_name: dict[str, Transition] = field(init=False, repr=False)

    def __post_init__(self):
        self._by_name = {t.name: t for t in self.transitions}
        known = set(self.states.values)
        for t in self.transitions:
            unknown = (t.sources | {t.target}) - known
            if unknown:
                raise ValueError(f"{t.name}: unknown states {sorted(unknown)}")

    def __getitem__(self, name: str) -> Transition:
        return self._by_name[name]

    def state_of(self, obj) -> str:
        return getattr(obj, self.state_field)

    def available(self, obj, actor) -> list[Transition]:
        state = self.state_of(obj)
        return [t for t in self.transitions if state in t.sources and t.may(actor, obj)]

    def check(self, obj, name: str, actor) -> Transition:
        transition = self._by_name[name]
        state = self.state_of(obj)
        if state not in transition.sources:
            raise TransitionNotAllowed(
                _("“%(action)s” is not possible while the item is “%(state)s”.")
                % {"action": transition.label, "state": self.states(state).label}
            )
        if not transition.may(actor, obj):
            raise TransitionNotAllowed(_("You may not “%(action)s” here.") % {"action": transition.label})
        return transition

    def apply(self, obj, name: str, actor, *, expected: dict | None = None, **changes) -> Transition:
        """Move `obj` along `name` with a compare-and-set UPDATE; `changes` are written with it.

        `expected`: other columns that must still hold the values the caller saw (e.g. the handling
        level of an escalation), so that two concurrent moves cannot both apply."""
        transition = self.check(obj, name, actor)
        seen = self.state_of(obj)
        values = {self.state_field: transition.target, **changes}
        condition = {self.state_field: seen, **(expected or {})}
        updated = type(obj).objects.filter(pk=obj.pk, **condition).update(**values)
        if updated != 1:
            now = type(obj).objects.filter(pk=obj.pk).values_list(self.state_field, flat=True).first()
            raise Conflict(
                _("Someone else acted first: the item is now “%(state)s”. Reload to see it.")
                % {"state": self.states(now).label if now else "?"}
            )
        for name_, value in values.items():
            setattr(obj, name_, value)
        return transition

    # --- documentation ---------------------------------------------------------------------------
    def mermaid(self) -> str:
        lines = ["stateDiagram-v2"]
        for t in self.transitions:
            for source in sorted(t.sources):
                lines.append(f"    {source} --> {t.target}: {t.name}")
        return "\n".join(lines)

    def markdown_table(self) -> str:
        rows = ["| transition | from | to | who |", "|---|---|---|---|"]
        for t in self.transitions:
            sources = ", ".join(f"`{s}`" for s in sorted(t.sources))
            rows.append(f"| `{t.name}` | {sources} | `{t.target}` | {t.who} |")
        return "\n".join(rows)
