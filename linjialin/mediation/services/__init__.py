"""Every write of the mediation centre (DESIGN.md §3: the only write path), in four modules:

- `cases`: registration (all four sources), consent, team and objections, sessions, documents,
  counselling notes, outcomes, extensions, follow-ups, closing with the lesson and re-prevention
  tasks, the sweep (overdue cases and follow-ups); it re-exports the agreement and court services;
- `agreements`: the agreement (signatures, seal, the derived effective day) and 司法确认 (each
  party's consent, the competent court, the court's steps);
- `screening`: screening sessions and their findings (→ case, prevention task, or closed), legal
  consultations;
- `exports`: the generated documents and reports leaving the system (agreement, court filing pack,
  monthly and yearly figures), each audited.

Each service takes an explicit actor, checks permission, runs in one transaction, writes the case
timeline and the audit event (core.audit.record, the last write) and enqueues its notices.
"""

from . import agreements, cases, exports, screening

__all__ = ["agreements", "cases", "exports", "screening"]
