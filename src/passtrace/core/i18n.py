"""Translations: Babel catalogs, zh_CN by default, English available.

Catalogs are compiled from the .po files in memory when first used, so the
source tree never carries stale .mo binaries.
"""

from __future__ import annotations

import io
from contextvars import ContextVar
from functools import cache
from pathlib import Path
from typing import Any

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import LazyProxy, NullTranslations, Translations

LOCALE_DIR = Path(__file__).resolve().parent.parent / "locale"
LOCALES = ("zh_CN", "en")
DEFAULT_LOCALE = "zh_CN"
LOCALE_NAMES = {"zh_CN": "简体中文", "en": "English"}

_current: ContextVar[str] = ContextVar("passtrace_locale", default=DEFAULT_LOCALE)


@cache
def translations(locale: str) -> NullTranslations:
    """Load one locale's catalog, compiled in memory."""
    po_path = LOCALE_DIR / locale / "LC_MESSAGES" / "messages.po"
    if not po_path.exists():
        return NullTranslations()
    with po_path.open("rb") as fh:
        catalog = read_po(fh, locale=locale)
    buf = io.BytesIO()
    write_mo(buf, catalog)
    buf.seek(0)
    return Translations(buf)


def set_locale(locale: str) -> None:
    """Make a locale current for this request or command."""
    _current.set(locale if locale in LOCALES else DEFAULT_LOCALE)


def get_locale() -> str:
    """Return the current locale."""
    return _current.get()


def gettext(message: str, **params: Any) -> str:
    """Translate a message into the current locale and fill %(name)s params."""
    text = translations(_current.get()).gettext(message)
    return text % params if params else text


def ngettext(singular: str, plural: str, n: int, **params: Any) -> str:
    """Translate a message with a plural form."""
    text = translations(_current.get()).ngettext(singular, plural, n)
    params.setdefault("num", n)
    return text % params


_ = gettext


def N_(message: str) -> str:
    """Mark a literal as a msgid for extraction without translating it yet.

    Use it where a message is stored (dict values, variables) and translated
    later by gettext(), so `scripts/i18n` still finds the string.
    """
    return message


def lazy_gettext(message: str) -> LazyProxy:
    """Translate later, when the string is rendered (module-level labels)."""
    return LazyProxy(gettext, message, enable_cache=False)


def negotiate(
    *, user_locale: str | None, cookie: str | None, accept_language: str | None,
    default: str = DEFAULT_LOCALE,
) -> str:
    """Pick the locale: user setting, then cookie, then Accept-Language, then `default`.

    `default` is the deployment's PASSTRACE_DEFAULT_LOCALE (zh_CN unless set).
    """
    for candidate in (user_locale, cookie):
        if candidate in LOCALES:
            return candidate
    for part in (accept_language or "").split(","):
        tag = part.split(";")[0].strip().lower().replace("-", "_")
        if tag.startswith("zh"):
            return "zh_CN"
        if tag.startswith("en"):
            return "en"
    return default if default in LOCALES else DEFAULT_LOCALE
