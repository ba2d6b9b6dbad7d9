"""Every write of the mediation centre (DESIGN.md §3: the only write path), in three modules:

- `cases`: registration (all four sources), consent, team and objections, sessions, documents,
  counselling notes, outcomes, agreement, court confirmation, extensions, follow-ups, closing with
  the lesson and re-prevention tasks, the sweep (overdue cases and follow-ups);
- `screening`: screening sessions and their findings (→ case, prevention task, or closed), legal
  consultations;
- `exports`: the generated documents and reports leaving the system (agreement, court filing pack,
  monthly and yearly figures), each audited.

Each service takes an explicit actor, checks permission, runs in one transaction, writes the case
timeline and the audit event (core.audit.record, the last write) and enqueues its notices.
"""

from . import cases, exports, screening

__all__ = ["cases", "exports", "screening"]
