"""The status derivation, rule by rule (pure: no database)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from passtrace.health.derive import derive, is_live

NOW = datetime(2026, 12, 3, 12, 0, tzinfo=UTC)
HOUR = timedelta(hours=1)


@dataclass
class F:
    level: str
    starts_at: datetime = NOW - HOUR
    until: datetime | None = None
    cleared_at: datetime | None = None


def test_no_flag_is_green() -> None:
    assert derive([], NOW).status == "green"


def test_red_beats_yellow_whatever_the_order() -> None:
    assert derive([F("yellow"), F("red")], NOW).status == "red"
    assert derive([F("red"), F("yellow")], NOW).status == "red"
    assert derive([F("yellow"), F("yellow")], NOW).status == "yellow"


def test_a_flag_ending_exactly_now_no_longer_counts() -> None:
    assert not is_live(F("red", until=NOW), NOW)
    assert is_live(F("red", until=NOW + timedelta(microseconds=1)), NOW)
    assert derive([F("red", until=NOW), F("yellow")], NOW).status == "yellow"


def test_a_cleared_flag_does_not_count_and_a_future_one_not_yet() -> None:
    assert derive([F("red", cleared_at=NOW)], NOW).status == "green"
    assert derive([F("red", starts_at=NOW + HOUR)], NOW).status == "green"
    assert derive([F("red", starts_at=NOW)], NOW).status == "red"


def test_until_is_the_last_end_at_the_status_level_or_none_if_open_ended() -> None:
    a, b = NOW + HOUR, NOW + 3 * HOUR
    assert derive([F("red", until=a), F("red", until=b), F("yellow")], NOW).until == b
    assert derive([F("red", until=a), F("red")], NOW).until is None
    assert derive([], NOW).until is None
