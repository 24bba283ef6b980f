"""Validators for Chinese identity documents, phones and vehicle plates."""

from __future__ import annotations

import re
import unicodedata
from datetime import date
from typing import Annotated

from pydantic import AfterValidator
from pydantic_core import PydanticCustomError

from passtrace.core.clock import utcnow

# GB 11643-1999 weights and check characters (ISO 7064 MOD 11-2).
_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_CHECK = "10X98765432"
# Province-level prefixes of GB/T 2260 (incl. Taiwan, Hong Kong, Macao residence permits).
PROVINCE_PREFIXES = frozenset({
    "11", "12", "13", "14", "15", "21", "22", "23", "31", "32", "33", "34",
    "35", "36", "37", "41", "42", "43", "44", "45", "46", "50", "51", "52",
    "53", "54", "61", "62", "63", "64", "65", "71", "81", "82", "83",
})

PHONE_RE = re.compile(r"^1[3-9][0-9]{9}$")
_PROVINCES = "京津沪渝冀豫云辽黑湘皖鲁新苏浙赣鄂桂甘晋蒙陕吉闽贵粤青藏川宁琼"
_L = "A-HJ-NP-Z"  # letters used on plates: no I or O
PLATE_RE = re.compile(
    rf"^[{_PROVINCES}][{_L}]"
    rf"(?:[{_L}0-9]{{4}}[{_L}0-9挂学警港澳]"  # ordinary plate
    rf"|[DF][{_L}0-9]\d{{4}}"  # new-energy small car: D/F first
    rf"|\d{{5}}[DF])$"  # new-energy large vehicle: D/F last
)


class InvalidValue(ValueError):
    """A value failed validation; .message is a translatable msgid."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


# Separators people type when reading a number off a card in groups (6-8-4): any
# Unicode space (NFKC turns the ideographic space into " ") and hyphens. They carry
# no meaning, so they are dropped; every other character must be a digit or X.
_ID_SEPARATORS = re.compile(r"[\s\-\u2010-\u2015\u2212]+")


def normalize_id_number(raw: str) -> str:
    """The one canonical form of a typed ID number, applied before validating or hashing.

    NFKC first, so full-width digits (５２０…), superscripts (²) and the full-width x
    become their ASCII forms; then separators (spaces, hyphens) are removed and a
    trailing x upper-cased. Anything else that is not an ASCII digit (for example
    Arabic-Indic ٠١٢) is kept as it is, so validate_id_number refuses it instead of
    hashing a second spelling of one number into a second person.
    """
    value = _ID_SEPARATORS.sub("", unicodedata.normalize("NFKC", raw))
    return value.upper()


def validate_id_number(raw: str) -> str:
    """Validate a resident ID number (GB 11643-1999) and return it normalized.

    Every path that takes an ID number (people, sign-up, registrations online, batch and
    fast path, staff and resident imports, visits) calls this before hashing, so one
    number is one person however it was typed.
    """
    value = normalize_id_number(raw)
    if not value.isascii() or not value.isalnum():
        raise InvalidValue("An ID number may contain only the digits 0-9 and X; remove "
                           "other characters (letters, symbols or digits of another "
                           "script).")
    if len(value) != 18:
        raise InvalidValue("An ID number has 18 characters.")
    if not value[:17].isdigit() or not (value[17].isdigit() or value[17] == "X"):
        raise InvalidValue("An ID number is 17 digits followed by a digit or X.")
    if value[:2] not in PROVINCE_PREFIXES:
        raise InvalidValue("The ID number does not start with a valid region code.")
    try:
        born = date(int(value[6:10]), int(value[10:12]), int(value[12:14]))
    except ValueError:
        raise InvalidValue("The birth date in the ID number is not a real date.") from None
    if born > utcnow().date() or born.year < 1890:
        raise InvalidValue("The birth date in the ID number is not plausible.")
    total = sum(int(d) * w for d, w in zip(value[:17], _WEIGHTS, strict=True))
    if _CHECK[total % 11] != value[17]:
        raise InvalidValue("The ID number's check digit is wrong; please check for a typo.")
    return value


def id_check_char(first17: str) -> str:
    """Return the check character for 17 digits (used by demo data and tests)."""
    return _CHECK[sum(int(d) * w for d, w in zip(first17, _WEIGHTS, strict=True)) % 11]


def validate_phone(raw: str) -> str:
    """Validate a mainland mobile number (11 digits starting 13-19), returned in ASCII.

    NFKC first, so full-width digits (１３８…) are stored, hashed and searched as the
    ASCII number; other scripts' digits are refused rather than kept as a second spelling.
    """
    value = unicodedata.normalize("NFKC", raw).strip().replace(" ", "").replace("-", "")
    if value.startswith("+86"):
        value = value[3:]
    if not PHONE_RE.match(value):
        raise InvalidValue("A mobile number has 11 digits and starts with 13 to 19.")
    return value


def validate_plate(raw: str) -> str:
    """Validate a vehicle plate such as 贵A12345 or 贵AD12345 (new energy)."""
    value = raw.strip().replace(" ", "").replace("·", "").upper()
    if not PLATE_RE.match(value):
        raise InvalidValue("This is not a valid vehicle plate (e.g. 贵A12345 or 贵AD12345).")
    return value


# GB 32100-2015 unified social credit code: 31 characters (no I, O, S, V, Z),
# weights 3^i mod 31, check character = 31 - (weighted sum mod 31).
CREDIT_CODE_CHARS = "0123456789ABCDEFGHJKLMNPQRTUWXY"
_CREDIT_WEIGHTS = tuple(pow(3, i, 31) for i in range(17))


def credit_code_check_char(first17: str) -> str:
    """Return the check character for the first 17 characters of a credit code."""
    total = sum(CREDIT_CODE_CHARS.index(c) * w
                for c, w in zip(first17, _CREDIT_WEIGHTS, strict=True))
    return CREDIT_CODE_CHARS[(31 - total % 31) % 31]


def validate_credit_code(raw: str) -> str:
    """Validate a unified social credit code (GB 32100-2015) and return it normalized."""
    value = raw.strip().replace(" ", "").upper()
    if len(value) != 18:
        raise InvalidValue("A unified social credit code has 18 characters.")
    if any(c not in CREDIT_CODE_CHARS for c in value):
        raise InvalidValue("A unified social credit code uses only digits and capital "
                           "letters other than I, O, S, V and Z.")
    if not value[2:8].isdigit():
        raise InvalidValue("Characters 3 to 8 of a unified social credit code are the "
                           "area code (6 digits).")
    if credit_code_check_char(value[:17]) != value[17]:
        raise InvalidValue("The unified social credit code's check character is wrong; "
                           "please check for a typo.")
    return value


# Every date a client sends (a query's day, a visit date, an export range) lies here.
# Beyond it, day arithmetic (the day before, local midnight in UTC) overflowed Python's
# date range: in-out?day=9999-12-31 and stats?day=0001-01-01 were 500s.
EARLIEST_DAY = date(2000, 1, 1)
LATEST_DAY = date(2099, 12, 31)
DAY_OUT_OF_RANGE = "Choose a date between 2000-01-01 and 2099-12-31."


def check_day(value: date) -> date:
    """Refuse a date outside EARLIEST_DAY..LATEST_DAY (pydantic reports it per field)."""
    if not EARLIEST_DAY <= value <= LATEST_DAY:
        raise PydanticCustomError("date_out_of_range", DAY_OUT_OF_RANGE)
    return value


# The one date type of query parameters and schemas: `day: Day | None = None`.
Day = Annotated[date, AfterValidator(check_day)]
