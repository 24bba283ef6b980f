"""ID numbers, phones and plates are validated with messages people can act on."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from passtrace.core.validators import (
    InvalidValue,
    id_check_char,
    validate_id_number,
    validate_phone,
    validate_plate,
)

# The GB 11643-1999 worked example: 11010519491231002X.
STANDARD_EXAMPLE = "11010519491231002X"


def test_the_standard_example_is_valid_and_lowercase_x_is_accepted():
    assert validate_id_number(STANDARD_EXAMPLE) == STANDARD_EXAMPLE
    assert validate_id_number(" 11010519491231002x ") == STANDARD_EXAMPLE


@pytest.mark.parametrize(("value", "words"), [
    ("1101051949123100", "18 characters"),
    ("11010519491231002A", "17 digits"),
    ("99010519491231002X", "region code"),
    ("110105194902300020", "real date"),
    ("110105194912310021", "check digit"),
])
def test_bad_id_numbers_say_what_is_wrong(value, words):
    with pytest.raises(InvalidValue) as exc:
        validate_id_number(value)
    assert words in exc.value.message


# [0-9], not \d: hypothesis's \d includes every script's digits, which are refused.
@given(st.from_regex(r"52010[1-3](19[5-9][0-9]|200[0-9])(0[1-9]|1[0-2])(0[1-9]|1[0-9]|2[0-8])"
                     r"[0-9]{3}", fullmatch=True))
def test_any_single_digit_typo_is_caught(first17):
    good = first17 + id_check_char(first17)
    assert validate_id_number(good) == good
    for i in range(17):
        digit = good[i]
        typo = good[:i] + str((int(digit) + 1) % 10) + good[i + 1:]
        # A typo must never pass silently: the checksum (or date/region) catches it.
        with pytest.raises(InvalidValue):
            validate_id_number(typo)


@pytest.mark.parametrize("phone", ["13885012345", "+86 138 8501 2345", "199-8501-2345"])
def test_mobile_numbers_are_normalized(phone):
    assert len(validate_phone(phone)) == 11


def test_full_width_mobile_numbers_become_ascii():
    assert validate_phone("１３８ ８５０１ ２３４５") == "13885012345"


@pytest.mark.parametrize("phone", ["12345678901", "1388501234", "abc", "13٨٨٥٠١٢٣٤٥"])
def test_bad_mobile_numbers_are_refused(phone):
    with pytest.raises(InvalidValue):
        validate_phone(phone)


@pytest.mark.parametrize("plate", ["贵A12345", "贵AD12345", "贵A12345D", "京B·6789X", "粤BF1234"])
def test_ordinary_and_new_energy_plates_are_accepted(plate):
    assert validate_plate(plate).startswith(plate[0])


@pytest.mark.parametrize("plate", ["A12345", "贵I12345", "贵A1234", "贵AO1234", "贵A123456"])
def test_malformed_plates_are_refused(plate):
    with pytest.raises(InvalidValue):
        validate_plate(plate)


@given(st.text(max_size=30))
def test_any_text_is_a_valid_number_or_a_clear_refusal_never_a_crash(raw):
    # Superscript digits once reached int() and raised a bare ValueError (a 500).
    try:
        value = validate_id_number(raw)
    except InvalidValue as exc:
        assert exc.message
    else:
        assert len(value) == 18 and value.isascii() and value[:17].isdigit()


@pytest.mark.parametrize("spelling", [
    "１１０１０５１９４９１２３１００２ｘ",  # full-width, as a Chinese IME types it
    "11010519491231002X".replace("2", "²", 1),  # a superscript digit
    "110105 19491231 002X",  # grouped 6-8-4 as on the card: separators are dropped
    "110105-19491231-002x",
    "110105\u300019491231\u3000002X",  # ideographic spaces
])
def test_other_spellings_of_one_number_normalise_to_it(spelling):
    assert validate_id_number(spelling) == STANDARD_EXAMPLE


@pytest.mark.parametrize("spelling", [
    "1\u0661010519491231002X",  # an Arabic-Indic digit: int() reads it, NFKC keeps it
    "11010519491231002X\u200b",  # a zero-width space
    "110105.19491231.002X",
])
def test_characters_that_are_not_digits_are_named_as_the_problem(spelling):
    with pytest.raises(InvalidValue) as exc:
        validate_id_number(spelling)
    assert "digits 0-9 and X" in exc.value.message
