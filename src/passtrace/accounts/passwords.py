"""What a new password must be: long enough, not the username, not a common one."""

from __future__ import annotations

import functools
import secrets
from importlib import resources

from passtrace.core.errors import ValidationFailed
from passtrace.core.i18n import N_

MIN_LENGTH = 10
# Letters and digits a person can read off a screen and type without confusing
# 0/O or 1/l/I; 14 of them are about 80 bits.
_TEMP_ALPHABET = "abcdefghjkmnpqrstuvwxyzACDEFGHJKLMNPQRSTUVWXYZ23456789"


@functools.cache
def common_passwords() -> frozenset[str]:
    """The bundled list (accounts/data/common_passwords.txt), lower-cased, read once."""
    text = resources.files("passtrace.accounts").joinpath(
        "data/common_passwords.txt").read_text(encoding="utf-8")
    return frozenset(line.strip().lower() for line in text.splitlines()
                     if line.strip() and not line.startswith("#"))


def check(password: str, *, username: str) -> None:
    """Refuse a weak new password with a message saying why (field: password)."""
    message = None
    if len(password) < MIN_LENGTH:
        message = N_("A password needs at least 10 characters.")
    elif username and username.lower() in password.lower():
        message = N_("A password must not contain the username.")
    elif password.lower() in common_passwords():
        message = N_("This password is one of the most common ones. Please choose another.")
    if message:
        raise ValidationFailed(message, fields={"password": message})


def temporary() -> str:
    """A one-time password an admin hands over; the user must replace it at login."""
    return "".join(secrets.choice(_TEMP_ALPHABET) for _ in range(14))
