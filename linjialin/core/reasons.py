"""The one check for the reason a person gives before reading or exporting personal data (a full
mobile or ID number, a roster or a mediation file with the parties' identity).

The reason lands in the audit trail and is what an auditor reads to judge a sensitive read, so it must
say something. `clean_reason` removes what cannot be seen — white space, zero-width and other format
characters (U+200B, U+200C, U+200D, U+2060, U+FEFF …), control characters — collapses the rest, and
asks for at least MIN_VISIBLE letters or digits: "ab", "??!!" or two zero-width spaces are refused,
"核实身份" (four Chinese characters) and "home visit" pass. Pure functions, no domain imports.
"""

from __future__ import annotations

import unicodedata

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

# Four letters or digits: a short Chinese reason ("核实身份", "上门走访") is four characters, and
# nothing shorter says why. A floor of input validation (like a field's max length), not a policy.
MIN_VISIBLE = 4
MAX_LENGTH = 500

_INVISIBLE = {"Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp"}  # control, format (zero-width …), unassigned


def visible_text(value) -> str:
    """`value` with invisible characters removed and every run of white space made one space."""
    text = unicodedata.normalize("NFKC", str(value or ""))
    kept = "".join(" " if ch.isspace() else ch for ch in text if unicodedata.category(ch) not in _INVISIBLE)
    return " ".join(kept.split())


def meaningful_length(value) -> int:
    """How many letters and digits (any script) `value` holds: punctuation and marks do not count."""
    return sum(1 for ch in visible_text(value) if unicodedata.category(ch)[0] in "LN")


def clean_reason(value, *, message: str | None = None, field: str = "reason") -> str:
    """The reason as it will be stored, or ValidationError on `field` when it says too little."""
    text = visible_text(value)
    if meaningful_length(text) < MIN_VISIBLE:
        raise ValidationError(
            {
                field: (message or _("Please say why you need it."))
                + " "
                + _("Write at least %(count)d letters or characters.") % {"count": MIN_VISIBLE}
            }
        )
    return text[:MAX_LENGTH]


def is_meaningful(value) -> bool:
    return meaningful_length(value) >= MIN_VISIBLE
