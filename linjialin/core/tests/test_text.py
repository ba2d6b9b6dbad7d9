"""core.text: the shared normal form of free text (NFKC, lower case, personal numbers removed)."""

import pytest

from linjialin.core.text import (
    ID_NUMBER,
    PHONE,
    char_ngrams,
    contains_any,
    fold,
    jaccard,
    normalise,
    shingles,
    strip_personal_numbers,
)


def test_full_width_becomes_half_width_and_lower_case():
    assert normalise("ＡＢＣ　１２３，楼道灯坏了！") == "abc 123,楼道灯坏了!"


def test_white_space_collapsed_and_trimmed():
    assert normalise("  楼道灯\t\n  坏了  ") == "楼道灯 坏了"
    assert normalise(None) == ""
    assert normalise("") == ""


@pytest.mark.parametrize(
    "raw",
    [
        "电话13812345678请回电",
        "电话 138-1234-5678 请回电",
        "电话 138 1234 5678 请回电",
        "电话+8613812345678请回电",
        "电话１３８１２３４５６７８请回电",  # full-width digits
    ],
)
def test_mobile_numbers_replaced(raw):
    out = normalise(raw)
    assert PHONE in out
    assert "1234" not in out and "5678" not in out


@pytest.mark.parametrize(
    "raw", ["座机010-62345678", "座机(010)62345678", "座机0571 8765 4321", "座机01062345678"]
)
def test_landlines_replaced(raw):
    out = normalise(raw)
    assert out == f"座机 {PHONE}"


@pytest.mark.parametrize(
    "raw", ["身份证11010519491231002X", "身份证11010519491231002x", "身份证110105491231002"]
)
def test_id_numbers_replaced_not_mistaken_for_phones(raw):
    out = normalise(raw)
    assert out == f"身份证 {ID_NUMBER}"


def test_placeholders_can_be_dropped():
    assert normalise("找王先生13812345678", placeholders=False) == "找王先生"


def test_short_service_numbers_and_addresses_kept():
    # 12345 hotline, 110, a house number and a year are not personal numbers
    assert normalise("打了12345和110,3号楼2单元301室,2026年") == "打了12345和110,3号楼2单元301室,2026年"


def test_a_long_digit_run_that_is_no_phone_is_not_cut_into_one():
    # 20 digits: neither an ID number nor a phone (no partial match inside a longer number)
    assert strip_personal_numbers(fold("编号12345678901234567890")) == "编号12345678901234567890"


def test_char_ngrams_and_shingles():
    assert char_ngrams("路灯 坏", 1, 2) == ["路", "灯", "坏", "路灯", "灯坏"]
    assert shingles("路灯坏了") == {"路灯", "灯坏", "坏了"}
    assert shingles("灯") == {"灯"}
    assert shingles("") == set()
    assert jaccard({"a", "b"}, {"b", "c"}) == pytest.approx(1 / 3)
    assert jaccard(set(), set()) == 0.0


def test_contains_any_matches_normalised_keywords():
    assert list(contains_any("ＬＥＤ路灯不亮", ["led", "声控灯", "路灯"])) == ["led", "路灯"]
