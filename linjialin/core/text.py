"""Shared text normalisation for anything that compares or learns from free text (routing, duplicates,
hotspots; docs/routing.md §1). Pure functions, no domain imports.

`normalise(text)`:
1. Unicode NFKC — full-width letters, digits and punctuation become half-width (ＡＢＣ１２３ → abc123,
   ，→ ,), compatibility forms are folded;
2. lower case;
3. personal numbers removed before any model, index or log sees them: 18-digit (and old 15-digit)
   resident ID numbers, mainland mobiles (1[3-9]x, optionally +86, with or without - or spaces
   between the groups) and landlines with an area code (010-62345678, (0571)8765 4321, 0755 88889999),
   each replaced by a placeholder (PHONE / ID_NUMBER) — or by nothing with `placeholders=False`;
4. runs of white space collapsed to one space, trimmed.

Short service numbers (110, 12345, 96069) are kept: they carry meaning and identify nobody.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Iterator

PHONE = "<phone>"
ID_NUMBER = "<id>"

# after NFKC + lower(): ID numbers end in a digit or "x"
_ID_RE = re.compile(r"(?<![0-9a-z])(?:\d{17}[\dx]|\d{15})(?![0-9a-z])")
_MOBILE_RE = re.compile(r"(?<![\d+])(?:\+?86[-\s]?)?1[3-9]\d(?:[-\s]?\d{4}){2}(?!\d)")
_LANDLINE_RE = re.compile(
    r"(?<!\d)(?:\(0\d{2,3}\)\s?|0\d{2,3}[-\s]?)\d{3,4}[-\s]?\d{4}(?:[-\s]?(?:转|ext\.?)\s?\d{1,5})?(?!\d)"
)
_SPACE_RE = re.compile(r"\s+")


def fold(text: str | None) -> str:
    """NFKC + lower case + white space collapsed (no number removal)."""
    text = unicodedata.normalize("NFKC", text or "").lower()
    return _SPACE_RE.sub(" ", text).strip()


def strip_personal_numbers(text: str, *, placeholders: bool = True) -> str:
    """Replace ID numbers, mobiles and landlines in already folded text (see `fold`)."""
    text = _ID_RE.sub(f" {ID_NUMBER} " if placeholders else " ", text)
    text = _MOBILE_RE.sub(f" {PHONE} " if placeholders else " ", text)
    return _LANDLINE_RE.sub(f" {PHONE} " if placeholders else " ", text)


def normalise(text: str | None, *, placeholders: bool = True) -> str:
    """The one normal form for comparing and learning from free text (module docstring)."""
    text = strip_personal_numbers(fold(text), placeholders=placeholders)
    return _SPACE_RE.sub(" ", text).strip()


def is_cjk(char: str) -> bool:
    """A CJK ideograph (basic block and extension A, compatibility ideographs)."""
    code = ord(char)
    return 0x4E00 <= code <= 0x9FFF or 0x3400 <= code <= 0x4DBF or 0xF900 <= code <= 0xFAFF


def char_ngrams(text: str, n_min: int = 1, n_max: int = 3) -> list[str]:
    """Overlapping character n-grams of `text` (spaces dropped first), shortest first."""
    chars = text.replace(" ", "")
    return [chars[i : i + n] for n in range(n_min, n_max + 1) for i in range(len(chars) - n + 1)]


def shingles(text: str, n: int = 2) -> set[str]:
    """The set of character n-grams of normalised text; a text shorter than n is its own shingle."""
    chars = normalise(text, placeholders=False).replace(" ", "")
    if len(chars) <= n:
        return {chars} if chars else set()
    return {chars[i : i + n] for i in range(len(chars) - n + 1)}


def jaccard(a: set[str], b: set[str]) -> float:
    """|a ∩ b| / |a ∪ b|, 0.0 for two empty sets."""
    if not a and not b:
        return 0.0
    return len(a & b) / len(a | b)


def contains_any(text: str, keywords: Iterable[str]) -> Iterator[str]:
    """The keywords (normalised) that occur in normalised `text`, in the order given."""
    norm = normalise(text)
    for keyword in keywords:
        k = normalise(keyword, placeholders=False)
        if k and k in norm:
            yield k
