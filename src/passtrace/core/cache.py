"""One small in-process cache: entries live a few seconds, any change drops them, size is bounded.

Hot paths (a checkpoint registering ~1,000 people a second) must not re-read rows
that change a few times a month: the login behind a token, a site, a compound's
rules, the pass keys. Each such cache is a `TtlCache`:

- an entry lives `ttl` seconds, so other worker processes see a change within
  that time;
- a change to the models it is built from, flushed, committed or rolled back in
  this process (`Changes`), makes every entry stale at once, here;
- a load that started before such a change cannot store what it read
  (`generation()` before reading, `put(..., generation=...)` after);
- at most `max_entries` are kept; the oldest go first (with one TTL for all, the
  oldest is also the first to expire).
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import Any, Final, Generic, TypeVar

from sqlalchemy import event
from sqlalchemy.orm import Session

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")


class Miss:
    """The type of MISS (for isinstance, which type checkers understand)."""

    def __repr__(self) -> str:
        return "MISS"


MISS: Final = Miss()  # "not cached" (None may be a cached answer: "no such row")


class Changes:
    """Counts changes to some models in this process (flush, commit, rollback).

    Flushing a change counts at once (the session itself must not see the old
    copy); its commit counts again (a request that read the old rows between the
    flush and the commit may have cached them), and so does its rollback (what
    was cached may have come from the undone change).
    """

    def __init__(self, *models: type, name: str) -> None:
        self.models = models
        self._flag = f"changes:{name}"
        self._count = 0
        event.listen(Session, "after_flush", self._flushed)
        event.listen(Session, "after_commit", self._ended)
        event.listen(Session, "after_rollback", self._ended)

    @property
    def count(self) -> int:
        """How many changes were seen; compare two readings to learn whether one happened."""
        return self._count

    def bump(self) -> None:
        """Count a change made some other way (raw SQL, a test)."""
        self._count += 1

    def _flushed(self, session: Session, _context: object) -> None:
        if any(isinstance(obj, self.models)
               for objs in (session.new, session.dirty, session.deleted) for obj in objs):
            session.info[self._flag] = True
            self.bump()

    def _ended(self, session: Session) -> None:
        if session.info.pop(self._flag, False):
            self.bump()


class TtlCache(Generic[K, V]):
    """A bounded, thread-safe map whose entries expire and can be invalidated at once."""

    def __init__(self, *, ttl: float, max_entries: int, changes: Changes | None = None,
                 clock: Callable[[], float] = time.monotonic) -> None:
        if ttl <= 0 or max_entries <= 0:
            raise ValueError("ttl and max_entries must be positive")
        self.ttl = ttl
        self.max_entries = max_entries
        self._changes = changes
        self._clock = clock
        self._own = 0  # bumped by invalidate()
        self._entries: OrderedDict[K, tuple[float, tuple[int, int], V]] = OrderedDict()
        self._lock = threading.Lock()

    def generation(self) -> tuple[int, int]:
        """Take before reading the source; hand to put() so a stale read is not kept."""
        return (self._changes.count if self._changes is not None else 0, self._own)

    def get(self, key: K) -> V | Miss:
        """The cached value, or MISS when absent, expired or made stale by a change."""
        hit = self._entries.get(key)
        if hit is None:
            return MISS
        expires, generation, value = hit
        if expires <= self._clock() or generation != self.generation():
            with self._lock:
                if self._entries.get(key) is hit:
                    del self._entries[key]
            return MISS
        return value

    def put(self, key: K, value: V, *, generation: tuple[int, int] | None = None) -> None:
        """Keep a value for `ttl` seconds, unless the source changed since `generation`."""
        now_generation = self.generation()
        if generation is not None and generation != now_generation:
            return
        with self._lock:
            self._entries.pop(key, None)
            while len(self._entries) >= self.max_entries:
                self._entries.popitem(last=False)
            self._entries[key] = (self._clock() + self.ttl, now_generation, value)

    def invalidate(self) -> None:
        """Drop every entry; loads already under way will not store what they read."""
        with self._lock:
            self._own += 1
            self._entries.clear()

    def __len__(self) -> int:
        return len(self._entries)


def runtime_cache(store: dict[str, Any], name: str,
                  factory: Callable[[], TtlCache[Any, Any]]) -> TtlCache[Any, Any]:
    """The TtlCache called `name` in a Runtime's cache dict, created on first use.

    Caches of rows live on the Runtime, not in the module: one process may serve
    (or test) several databases, whose rows must not meet.
    """
    cache = store.get(name)
    if not isinstance(cache, TtlCache):
        cache = store[name] = factory()
    return cache
