"""The one in-process cache: entries expire, any change drops them at once, size is bounded."""

from __future__ import annotations

import uuid

import pytest
from sqlalchemy.orm import Session

from passtrace.core.cache import MISS, Changes, TtlCache
from passtrace.core.runtime import Runtime
from passtrace.registrations import service as reg_service
from passtrace.sites.models import Site


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_an_entry_is_served_until_its_time_is_up() -> None:
    clock = FakeClock()
    cache: TtlCache[str, int] = TtlCache(ttl=5.0, max_entries=10, clock=clock)
    cache.put("a", 1)
    clock.now += 4.9
    assert cache.get("a") == 1
    clock.now += 0.2
    assert cache.get("a") is MISS
    assert len(cache) == 0  # an expired entry does not linger


def test_none_is_a_cached_answer_not_a_miss() -> None:
    cache: TtlCache[str, int | None] = TtlCache(ttl=5.0, max_entries=10)
    cache.put("no such row", None)
    assert cache.get("no such row") is None
    assert cache.get("never asked") is MISS


def test_the_oldest_entries_go_first_when_the_cache_is_full() -> None:
    cache: TtlCache[int, int] = TtlCache(ttl=60.0, max_entries=3)
    for i in range(5):
        cache.put(i, i)
    assert len(cache) == 3
    assert [cache.get(i) for i in range(5)] == [MISS, MISS, 2, 3, 4]


def test_invalidate_drops_everything_and_a_load_under_way_is_not_kept() -> None:
    cache: TtlCache[str, str] = TtlCache(ttl=60.0, max_entries=10)
    cache.put("a", "old")
    generation = cache.generation()  # a reader starts loading "b" ...
    cache.invalidate()  # ... a change lands meanwhile ...
    cache.put("b", "read before the change", generation=generation)
    assert cache.get("a") is MISS
    assert cache.get("b") is MISS  # ... so what it read is not served
    cache.put("b", "fresh", generation=cache.generation())
    assert cache.get("b") == "fresh"


def test_bad_limits_are_refused() -> None:
    with pytest.raises(ValueError):
        TtlCache(ttl=0, max_entries=1)
    with pytest.raises(ValueError):
        TtlCache(ttl=1, max_entries=0)


def test_a_flushed_change_to_a_watched_model_makes_entries_stale(session: Session) -> None:
    changes = Changes(Site, name=f"test-{uuid.uuid4()}")
    cache: TtlCache[str, str] = TtlCache(ttl=60.0, max_entries=10, changes=changes)
    cache.put("x", "cached")
    session.flush()  # nothing watched changed
    assert cache.get("x") == "cached"
    session.add(Site(code=f"T-{uuid.uuid4().hex[:8]}", name="t", kind="venue",
                     area_code="520102"))
    session.flush()
    assert cache.get("x") is MISS


def test_a_site_changed_here_is_read_again_at_once(rt: Runtime, session: Session) -> None:
    """The checkpoint's site cache: a new fever threshold applies to the next scan."""
    code = f"T-{uuid.uuid4().hex[:8]}"
    session.add(Site(code=code, name="t", kind="venue", area_code="520102",
                     fever_threshold=37.3))
    session.flush()
    assert reg_service.load_site(session, rt, code).fever_threshold == 37.3
    assert reg_service.cached_site(rt, code) is not reg_service.MISS
    row = session.query(Site).filter_by(code=code).one()
    row.fever_threshold = 37.8
    session.flush()
    assert reg_service.cached_site(rt, code) is reg_service.MISS
    assert reg_service.load_site(session, rt, code).fever_threshold == 37.8
