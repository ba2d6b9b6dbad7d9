"""The one reason rule for sensitive reads (core/reasons.py): invisible characters do not count, and
a reason says something (at least four letters or characters, any script)."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError

from linjialin.core.reasons import MIN_VISIBLE, clean_reason, is_meaningful, visible_text

ZWSP, ZWNJ, ZWJ, WJ, BOM, RLM = "\u200b", "\u200c", "\u200d", "\u2060", "\ufeff", "\u200f"


@pytest.mark.parametrize(
    "reason",
    [
        "",
        "   ",
        ZWSP * 2,  # finding: two zero-width spaces were accepted
        "ab",  # finding: two letters were accepted
        "abc",
        f"{ZWSP}a{ZWNJ}b{ZWJ}c{WJ}{BOM}{RLM}",
        "\u3000\u3000核实\u3000",  # ideographic spaces around two characters
        "????!!!!",
        "......",
        "\t\n\r",
        "\x00\x01\x02\x03",
    ],
)
def test_a_reason_that_says_nothing_is_refused_naming_the_field(reason):
    with pytest.raises(ValidationError) as exc:
        clean_reason(reason)
    assert "reason" in exc.value.message_dict
    assert not is_meaningful(reason)


@pytest.mark.parametrize(
    ("reason", "stored"),
    [
        ("核实身份", "核实身份"),  # four Chinese characters pass
        ("  上门走访 ", "上门走访"),
        (f"home{ZWSP} visit", "home visit"),
        ("电话\u3000通知开庭", "电话 通知开庭"),
        ("ＡＢＣＤ", "ABCD"),  # full-width letters count as letters (NFKC)
        ("1234", "1234"),
    ],
)
def test_a_meaningful_reason_passes_and_is_stored_without_invisible_characters(reason, stored):
    assert clean_reason(reason) == stored
    assert is_meaningful(reason)


def test_the_floor_is_four_and_the_caller_names_its_field():
    assert MIN_VISIBLE == 4
    with pytest.raises(ValidationError) as exc:
        clean_reason("核实", field="why", message="Say why.")
    assert list(exc.value.message_dict) == ["why"]
    assert exc.value.message_dict["why"][0].startswith("Say why.")
    assert visible_text(f"a{ZWSP}\n\n b") == "a b"
