"""From flags to a status: a pure function, so every rule of it is testable alone."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Generic, Protocol, TypeVar

from passtrace.health.models import SEVERITY


class FlagLike(Protocol):
    """What the derivation reads of a flag (a StatusFlag row, or a test's stand-in)."""

    @property
    def level(self) -> str: ...
    @property
    def starts_at(self) -> datetime: ...
    @property
    def until(self) -> datetime | None: ...
    @property
    def cleared_at(self) -> datetime | None: ...


def is_live(flag: FlagLike, now: datetime) -> bool:
    """A flag counts from its start until (exclusive) its end, unless cleared.

    A flag ending exactly now no longer counts: `until` is the first moment the person
    is free of it (quarantine ends at that instant).
    """
    if flag.cleared_at is not None and flag.cleared_at <= now:
        return False
    if flag.starts_at > now:
        return False
    return flag.until is None or flag.until > now


F = TypeVar("F", bound=FlagLike)


@dataclass
class Derived(Generic[F]):
    """A status and the live flags that explain it (worst first, the latest first)."""

    status: str
    flags: list[F] = field(default_factory=list)

    @property
    def until(self) -> datetime | None:
        """When the status would lapse on its own: the last end of the flags at its level.

        None while green, or while any flag at that level has no end.
        """
        ends = [f.until for f in self.flags if f.level == self.status]
        if not ends or any(e is None for e in ends):
            return None
        return max(e for e in ends if e is not None)


def derive(flags: Iterable[F], now: datetime) -> Derived[F]:
    """Green without live flags; otherwise the worst live level (red beats yellow)."""
    live = [f for f in flags if is_live(f, now)]
    if not live:
        return Derived("green")
    live.sort(key=lambda f: (SEVERITY[f.level], f.starts_at), reverse=True)
    return Derived(live[0].level, live)
