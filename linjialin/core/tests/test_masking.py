"""Phone numbers are masked whatever their length: a hotline order may carry a 7-digit local number or an
8-digit landline, and none is shown in full (DESIGN.md §6, PIPL Art. 51(3) de-identification)."""

from __future__ import annotations

import pytest

from linjialin.core.masking import mask_mobile


@pytest.mark.parametrize(
    ("number", "masked"),
    [
        ("13812341234", "138****1234"),  # a mobile: the usual 3 + 4
        ("01062345678", "010****5678"),  # an 11-digit landline with its area code
        ("862081234567", "862*****4567"),
        ("1234567890", "******7890"),
        ("62345678", "****5678"),  # an 8-digit Beijing landline: half hidden
        ("6234567", "*****67"),  # a 7-digit number: was shown in full
        ("12345", "***45"),
        ("1234", "****"),
        ("110", "***"),
        ("", ""),
    ],
)
def test_every_number_is_masked(number, masked):
    assert mask_mobile(number) == masked


@pytest.mark.parametrize("length", range(1, 16))
def test_never_in_full_and_at_least_half_or_four_digits_hidden(length):
    number = "9" * length
    shown = sum(ch != "*" for ch in mask_mobile(number))
    assert shown < length  # never in full
    hidden = length - shown
    assert hidden >= (length + 1) // 2 or hidden >= 4
