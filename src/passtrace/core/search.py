"""The one way list search text is read: normalised once, bounded, then classified.

Officials, managers and HR type the same kinds of things into every list's search box:
the last 4 characters of an ID number, the last 4 digits of a phone, a plate, a flat,
or a name. Each list decides which of these it searches; this module only cleans the
text (NFKC turns full-width digits and letters into ASCII) and says what it looks like.
"""

from __future__ import annotations

import re
import unicodedata

from passtrace.core.errors import ValidationFailed
from passtrace.core.i18n import N_

QUERY_MAX = 40
ID_TAIL = re.compile(r"^[0-9]{3}[0-9X]$")
PHONE_TAIL = re.compile(r"^[0-9]{4}$")
# A name as typed: letters of any script (no digits), e.g. 张 or 张三 or 阿依古丽.
NAME = re.compile(r"^[^\W\d_]{1,20}$")


def normalize_query(raw: str) -> str:
    """Normalise search text once: NFKC (full-width digits), no spaces or separators."""
    value = unicodedata.normalize("NFKC", raw or "").strip()
    value = re.sub(r"[\s·]", "", value)
    if len(value) > QUERY_MAX:
        raise ValidationFailed(N_("The search text is too long."),
                               fields={"q": N_("The search text is too long.")})
    return value


def id_tail(q: str) -> str | None:
    """The last 4 characters of an ID number, if that is what was typed (X upper-cased)."""
    upper = q.upper()
    return upper if ID_TAIL.match(upper) else None


def phone_tail(q: str) -> str | None:
    """The last 4 digits of a phone number, if that is what was typed."""
    return q if PHONE_TAIL.match(q) else None


def name(q: str) -> str | None:
    """A name (or its first characters), if that is what was typed."""
    return q if NAME.match(q) else None
