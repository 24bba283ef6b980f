"""One keyset pagination for every list: `{items, next}`, a capped `limit`, an opaque cursor.

A page ends at a row; the cursor names that row's position in the order, the
(sort key..., id) tuple, never an offset. So rows inserted or deleted while a
client pages through move nothing it has not read yet: no duplicates, no
gaps. The id is always the last key, which makes every position unique.

The cursor is base64url JSON of typed values. It is opaque to clients: the
only thing they may do with `next` is send it back as `cursor`.
"""

from __future__ import annotations

import base64
import binascii
import json
import uuid
from collections.abc import Callable, Iterable, Sequence
from datetime import date, datetime
from typing import Any, Generic, TypeVar

from pydantic import BaseModel
from sqlalchemy import Select, and_, or_
from sqlalchemy.orm import InstrumentedAttribute, Session

from passtrace.core.errors import ValidationFailed
from passtrace.core.i18n import N_

DEFAULT_LIMIT = 50
MAX_LIMIT = 200
CURSOR_MAX_LENGTH = 512
BAD_CURSOR = N_("The page cursor is not valid.")
START_AGAIN = N_("Start again from the first page.")

T = TypeVar("T")
Row = TypeVar("Row")


class Page(BaseModel, Generic[T]):
    """One page of a list and the cursor to the next (null on the last page)."""

    items: list[T]
    next: str | None = None


def _tag(value: Any) -> list[Any]:
    # datetime before date: a datetime is a date too.
    if isinstance(value, datetime):
        return ["t", value.isoformat()]
    if isinstance(value, date):
        return ["d", value.isoformat()]
    if isinstance(value, uuid.UUID):
        return ["u", value.hex]
    if isinstance(value, bool):
        return ["b", value]
    if isinstance(value, int):
        return ["i", value]
    if isinstance(value, str):
        return ["s", value]
    if isinstance(value, tuple):  # e.g. a natural sort key ("2" before "10")
        return ["l", [_tag(v) for v in value]]
    raise TypeError(f"cannot page on a {type(value).__name__}")


def _untag(item: Any) -> Any:
    if not isinstance(item, list) or len(item) != 2 or item[0] not in _UNTAG:
        raise ValueError("wrong shape")
    if item[0] == "l":
        if not isinstance(item[1], list):
            raise ValueError("wrong shape")
        return tuple(_untag(v) for v in item[1])
    return _UNTAG[item[0]](item[1])


_UNTAG: dict[str, Callable[[Any], Any]] = {"l": tuple,
    "t": datetime.fromisoformat, "d": date.fromisoformat,
    "u": lambda v: uuid.UUID(hex=v), "b": bool, "i": int, "s": str,
}


def encode_cursor(position: Sequence[Any]) -> str:
    """Make the cursor that points just after a row at `position` (its sort keys + id)."""
    raw = json.dumps([_tag(v) for v in position], separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def decode_cursor(cursor: str, width: int | None) -> tuple[Any, ...]:
    """Read a cursor back; anything not made by `encode_cursor` for this list is a 422."""
    try:
        if len(cursor) > CURSOR_MAX_LENGTH:
            raise ValueError("too long")
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        tagged = json.loads(raw)
        if not isinstance(tagged, list) or not tagged or (
                width is not None and len(tagged) != width):
            raise ValueError("wrong shape")
        return tuple(_untag(item) for item in tagged)
    except (ValueError, TypeError, AttributeError, RecursionError, binascii.Error,
            UnicodeDecodeError):
        raise ValidationFailed(BAD_CURSOR,
                               fields={"cursor": START_AGAIN}) from None


def capped(limit: int | None, max_limit: int = MAX_LIMIT) -> int:
    """The page size actually used: at least 1, at most `max_limit`."""
    return max(1, min(limit or DEFAULT_LIMIT, max_limit))


def _after(columns: Sequence[InstrumentedAttribute[Any]], values: tuple[Any, ...],
           descending: bool) -> Any:
    # Lexicographic "comes after": (a > x) or (a = x and b > y) or ... — portable
    # where row-value comparison is not, and each branch can use the index.
    branches = []
    for i, column in enumerate(columns):
        equal = [columns[j] == values[j] for j in range(i)]
        step = column < values[i] if descending else column > values[i]
        branches.append(and_(*equal, step))
    return or_(*branches)


def _check_types(columns: Sequence[InstrumentedAttribute[Any]],
                 values: tuple[Any, ...]) -> None:
    """A crafted cursor whose values have other types than the columns (a number for a
    text column) would reach the database as a comparison PostgreSQL refuses: a 422."""
    for column, value in zip(columns, values, strict=True):
        kind = column.type
        # A TypeDecorator (the UTC datetime type) says `object`: its impl says datetime.
        kind = getattr(kind, "impl_instance", kind)
        try:
            expected = kind.python_type
        except NotImplementedError:
            continue
        if (not isinstance(value, expected) or (expected is int and isinstance(value, bool))
                or (expected is date and isinstance(value, datetime))):
            raise ValidationFailed(BAD_CURSOR, fields={"cursor": START_AGAIN})


def paginate_query(session: Session, stmt: Select[Any],
                   order: Sequence[InstrumentedAttribute[Any]], *, cursor: str | None,
                   limit: int | None, descending: bool = False,
                   max_limit: int = MAX_LIMIT) -> tuple[list[Row], str | None]:
    """Run one page of `stmt` (a select of one entity) in `order`, whose last column is unique.

    None sort keys cannot be paged past: order only on NOT NULL columns.
    """
    size = capped(limit, max_limit)
    if cursor:
        position = decode_cursor(cursor, len(order))
        _check_types(order, position)
        stmt = stmt.where(_after(order, position, descending))
    stmt = stmt.order_by(*[c.desc() if descending else c.asc() for c in order])
    rows = list(session.scalars(stmt.limit(size + 1)))
    return _cut(rows, size, lambda r: tuple(getattr(r, c.key) for c in order))


def paginate_items(items: Iterable[Row], key: Callable[[Row], tuple[Any, ...]], *,
                   cursor: str | None, limit: int | None,
                   descending: bool = False,
                   max_limit: int = MAX_LIMIT) -> tuple[list[Row], str | None]:
    """The same paging over a list already in memory (small per-scope lists).

    `key` gives each row's (sort key..., id); the list is sorted here, so the
    caller's order does not matter.
    """
    size = capped(limit, max_limit)
    ordered = sorted(items, key=key, reverse=descending)
    if cursor:
        position = decode_cursor(cursor, None)
        try:
            ordered = [r for r in ordered if len(key(r)) != len(position) or (
                key(r) < position if descending else key(r) > position)]
            if ordered and len(key(ordered[0])) != len(position):
                raise TypeError("cursor of another list")
        except TypeError:
            raise ValidationFailed(BAD_CURSOR, fields={
                "cursor": START_AGAIN}) from None
    return _cut(ordered[:size + 1], size, key)


def _cut(rows: list[Row], size: int, key: Callable[[Row], tuple[Any, ...]]
         ) -> tuple[list[Row], str | None]:
    if len(rows) > size:
        rows = rows[:size]
        return rows, encode_cursor(key(rows[-1]))
    return rows, None
