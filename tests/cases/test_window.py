"""The exposure window: defaults from the case's dates, per-case edits, local midnights."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from passtrace.cases import window as windows
from passtrace.core import clock
from passtrace.core.errors import ValidationFailed
from tests.cases.conftest import local, new_case


@pytest.fixture
def frozen():  # type: ignore[no-untyped-def]
    at = datetime(2026, 11, 27, 3, 30, tzinfo=UTC)  # 11:30 in Guiyang
    clock.freeze(at)
    yield at
    clock.freeze(None)


def dates(classification: str = "confirmed", onset: date | None = date(2026, 11, 20),
          sampling: date | None = None, isolation: date | None = date(2026, 11, 25)
          ) -> windows.CaseDates:
    return windows.CaseDates(classification, onset, sampling, isolation)


def test_the_default_runs_from_local_midnight_two_days_before_onset_to_the_end_of_isolation():
    start, end = windows.default_window(dates())
    assert start == local(2026, 11, 18)  # 2026-11-17 16:00 UTC
    assert start == datetime(2026, 11, 17, 16, 0, tzinfo=UTC)
    assert end == local(2026, 11, 26)  # the isolation day is inside the window


def test_an_asymptomatic_case_starts_two_days_before_sampling():
    start, _ = windows.default_window(dates("asymptomatic", onset=None,
                                            sampling=date(2026, 11, 22)))
    assert start == local(2026, 11, 20)


def test_without_an_isolation_date_the_window_ends_now(frozen):
    start, end = windows.default_window(dates(isolation=None))
    assert start == local(2026, 11, 18) and end == frozen


def test_a_missing_anchor_or_a_future_onset_names_the_field(frozen):
    with pytest.raises(ValidationFailed) as missing:
        windows.default_window(dates("asymptomatic", sampling=None))
    assert set(missing.value.fields) == {"sampling_date"}
    with pytest.raises(ValidationFailed) as future:
        windows.default_window(dates(onset=date(2026, 11, 28)))
    assert set(future.value.fields) == {"onset_date"}
    with pytest.raises(ValidationFailed) as early:
        windows.default_window(dates(isolation=date(2026, 11, 17)))
    assert set(early.value.fields) == {"isolation_date"}


def test_an_edited_window_covers_whole_local_days_and_refuses_bad_ranges():
    start, end = windows.from_days(date(2026, 11, 1), date(2026, 11, 1))
    assert (start, end) == (local(2026, 11, 1), local(2026, 11, 2))
    assert windows.last_day(end) == date(2026, 11, 1)
    with pytest.raises(ValidationFailed) as backwards:
        windows.from_days(date(2026, 11, 2), date(2026, 11, 1))
    assert set(backwards.value.fields) == {"window_end"}
    with pytest.raises(ValidationFailed):
        windows.from_days(date(2026, 9, 1), date(2026, 11, 1))  # 62 days


def test_a_case_opened_through_the_api_gets_the_default(client, cast):
    c = new_case(client, cast["official"].headers)
    assert datetime.fromisoformat(c["window_start"]) == local(2026, 11, 18)
    assert datetime.fromisoformat(c["window_end"]) == local(2026, 11, 26)
    assert (c["window_first_day"], c["window_last_day"]) == ("2026-11-18", "2026-11-25")
    assert c["version"] == 1 and c["status"] == "open"


def test_editing_onset_moves_a_default_window_but_not_an_edited_one(client, cast):
    h = cast["official"].headers
    c = new_case(client, h)
    moved = client.patch(f"/api/v1/cases/{c['id']}", headers=h,
                         json={"version": 1, "onset_date": "2026-11-21"}).json()
    assert moved["window_first_day"] == "2026-11-19" and moved["version"] == 2
    edited = client.patch(f"/api/v1/cases/{c['id']}", headers=h, json={
        "version": 2, "window_start": "2026-11-10", "window_end": "2026-11-24"}).json()
    assert datetime.fromisoformat(edited["window_start"]) == local(2026, 11, 10)
    assert datetime.fromisoformat(edited["window_end"]) == local(2026, 11, 25)
    kept = client.patch(f"/api/v1/cases/{c['id']}", headers=h,
                        json={"version": 3, "onset_date": "2026-11-19"}).json()
    assert kept["window_first_day"] == "2026-11-10" and kept["version"] == 4


def test_a_window_given_when_opening_is_used(client, cast):
    c = new_case(client, cast["official"].headers, window_start="2026-11-01",
                 window_end="2026-11-14")
    assert datetime.fromisoformat(c["window_start"]) == local(2026, 11, 1)
    assert datetime.fromisoformat(c["window_end"]) - datetime.fromisoformat(
        c["window_start"]) == timedelta(days=14)


@pytest.mark.parametrize(("body", "field"), [
    ({"window_start": "2026-11-20", "window_end": "2026-11-19"}, "window_end"),
    ({"window_start": "2026-11-20"}, "window_end"),
    ({"window_start": "2026-01-01", "window_end": "2026-11-19"}, "window_end"),
    ({"window_start": "1999-12-31", "window_end": "2026-11-19"}, "window_start"),
])
def test_a_bad_window_is_refused_with_a_translated_message(client, cast, body, field):
    h = cast["official"].headers
    body = {"id_number": "110101199003074514", "onset_date": "2026-11-20",
            "area_code": "520102", **body}
    resp = client.post("/api/v1/cases", json=body, headers={**h, "Accept-Language": "zh-CN"})
    assert resp.status_code == 422, resp.text
    fields = resp.json()["error"]["fields"]
    assert field in fields
    assert any("\u4e00" <= ch <= "\u9fff" for ch in fields[field]), fields
