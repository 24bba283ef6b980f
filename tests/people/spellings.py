"""ID numbers as people and devices really send them (tests of every path use these)."""

from __future__ import annotations

from sqlalchemy import func, select

from passtrace.people.models import Person

EN = {"Accept-Language": "en"}
FOREIGN_DIGITS = "digits 0-9 and X"  # in the message refusing other scripts' digits


def fullwidth(id_number: str) -> str:
    """As a Chinese input method in full-width mode types it (５２０１…Ｘ)."""
    return "".join(chr(ord(c) + 0xFEE0) for c in id_number)


def superscript(id_number: str) -> str:
    """One digit typed as a superscript (52²1…), as a pasted or OCR'd number can carry."""
    sup = "⁰¹²³⁴⁵⁶⁷⁸⁹"
    return id_number[:2] + sup[int(id_number[2])] + id_number[3:]


def arabic_indic(id_number: str) -> str:
    """Digits 3-4 in Arabic-Indic (٠١٢…): Python's int() reads them, NFKC keeps them."""
    return id_number[:2] + "".join(chr(0x0660 + int(c)) for c in id_number[2:4]) + id_number[4:]


def people_count(session) -> int:
    return session.scalar(select(func.count()).select_from(Person))
