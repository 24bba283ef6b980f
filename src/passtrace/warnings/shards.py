"""Persons split by the bytes of their ID hash, so a declared area's scan and flags can
be applied a part at a time, on several connections at once (service.scan_declarations).

A part is a half-open range of hashes compared as bytes (COLLATE "C" on PostgreSQL,
SQLite's own order): the same person falls in the same part on both databases and on
every run, and the parts together hold every hash (an ID hash is hex, but a typed one
need not be: the first and last parts are open-ended).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import String, literal
from sqlalchemy.sql import ColumnElement

HEX = "0123456789abcdef"


@dataclass(frozen=True)
class HashRange:
    """The persons whose hash sorts in [low, high) (None: no bound on that side)."""

    low: str | None = None
    high: str | None = None

    def where(self, column: Any, *, pg: bool) -> list[ColumnElement[bool]]:
        """The conditions keeping `column` (a person hash) in this range."""
        bytewise = column.collate("C") if pg else column
        out: list[ColumnElement[bool]] = []
        if self.low is not None:
            out.append(bytewise >= literal(self.low, String))
        if self.high is not None:
            out.append(bytewise < literal(self.high, String))
        return out

    def holds(self, value: str) -> bool:
        """Whether a hash is in this range (as the SQL decides it)."""
        raw = value.encode()
        return ((self.low is None or raw >= self.low.encode())
                and (self.high is None or raw < self.high.encode()))


def split(parts: int) -> list[HashRange]:
    """`parts` ranges (1 to 16) cutting the hex hashes into equal shares by first digit."""
    parts = max(1, min(parts, len(HEX)))
    bounds = [HEX[len(HEX) * k // parts] for k in range(1, parts)]
    lows: list[str | None] = [None, *bounds]
    highs: list[str | None] = [*bounds, None]
    return [HashRange(low, high) for low, high in zip(lows, highs, strict=True)]
