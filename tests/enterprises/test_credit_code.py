"""The unified social credit code (GB 32100-2015) and its check character."""

from __future__ import annotations

import pytest

from passtrace.core.validators import (
    InvalidValue,
    credit_code_check_char,
    validate_credit_code,
)


@pytest.mark.parametrize("code", [
    "91350100M000100Y43",  # a published example
    "91110000600037341L",
    "91520100MA6J5GQX46",  # the demo enterprise
])
def test_valid_codes_pass_and_are_normalized(code):
    assert validate_credit_code(code) == code
    assert validate_credit_code(" " + code.lower() + " ") == code


@pytest.mark.parametrize(("first17", "check"), [
    ("91350100M000100Y4", "3"),
    ("91110000600037341", "L"),
    ("91520100MA6J5GQX4", "6"),
])
def test_computed_check_characters(first17, check):
    assert credit_code_check_char(first17) == check


def test_a_sum_divisible_by_31_gives_check_zero():
    # Find a body whose weighted sum is a multiple of 31: its check character is 0, not 31.
    for n in range(1000):
        body = f"915201000000{n:05d}"
        if credit_code_check_char(body) == "0":
            assert validate_credit_code(body + "0") == body + "0"
            return
    pytest.fail("no body with check character 0 found")


@pytest.mark.parametrize(("code", "message"), [
    ("91350100M000100Y4", "A unified social credit code has 18 characters."),
    ("91350100M000100Y433", "A unified social credit code has 18 characters."),
    ("91350100MO00100Y43", "uses only digits and capital letters other than I, O, S, V"),
    ("91350100M000100Y4I", "uses only digits and capital letters other than I, O, S, V"),
    ("9135010ZM000100Y43", "uses only digits"),
    ("913501A0M000100Y43", "area code"),
    ("91350100M000100Y44", "check character is wrong"),
    ("91520100MA6J5GQX4B", "check character is wrong"),
])
def test_invalid_codes_say_what_is_wrong(code, message):
    with pytest.raises(InvalidValue) as exc:
        validate_credit_code(code)
    assert message in exc.value.message
