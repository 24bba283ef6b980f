"""Re-verifying rewrites only the findings that changed (both databases).

The hourly job verifies yesterday and today again: a finding whose key, tolerance and
detail are as stored keeps its row (and its computed_at), one whose detail differs is
replaced, and a stored finding the run no longer finds is deleted.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from passtrace.tracing import verify
from passtrace.tracing.models import ReportFinding
from tests.tracing.verify_world import DAY, ELSEWHERE, HOME, OFFICE, at, build

LONG_AGO = datetime(2020, 1, 1, tzinfo=UTC)


Row = tuple[str, int | None, object, int, dict, datetime]  # type: ignore[type-arg]


def stored(session: Session) -> dict[uuid.UUID, Row]:
    session.expire_all()
    return {f.id: (f.finding_class, f.stop_seq, f.registration_id, f.tolerance_minutes,
                   f.detail, f.computed_at.replace(tzinfo=UTC) if f.computed_at.tzinfo is None
                   else f.computed_at)
            for f in session.scalars(select(ReportFinding))}


def run(session: Session, **kw) -> verify.Stats:  # type: ignore[no-untyped-def]
    stats = verify.verify(session=session, first=DAY, last=DAY, **kw)
    session.flush()
    return stats


def a_day(session: Session) -> None:
    """One report with every kind of finding: with and without a registration."""
    w = build(session)
    p, e = w.person()
    other, _ = w.person()
    w.report(e, p, [(HOME, at("07:00"), at("08:00")), (OFFICE, at("09:00"), at("12:00")),
                    (ELSEWHERE, at("13:00"), at("14:00"))])
    w.seen(p, HOME, at("07:45"))            # corroborated
    w.seen(p, HOME, at("10:00"))            # contradiction of the office stop
    w.seen(other, ELSEWHERE, at("13:30"))   # uncorroborated
    w.seen(p, ELSEWHERE, at("21:00"))       # unreported visit


def age_every_finding(session: Session) -> None:
    session.execute(update(ReportFinding).values(computed_at=LONG_AGO))
    session.flush()


def test_an_unchanged_day_keeps_every_row_and_counts_the_same(session: Session) -> None:
    a_day(session)
    first = run(session)
    age_every_finding(session)
    before = stored(session)
    again = run(session)
    assert stored(session) == before
    assert {v[5] for v in before.values()} == {LONG_AGO}
    assert dict(again.counts) == dict(first.counts) == {
        "corroborated": 1, "contradiction": 1, "uncorroborated": 1, "unreported_visit": 1}
    assert again.findings == first.findings == len(before) == 4


def test_a_finding_whose_stored_detail_differs_is_replaced_alone(session: Session) -> None:
    a_day(session)
    run(session)
    age_every_finding(session)
    before = stored(session)
    corroborated = next(k for k, v in before.items() if v[0] == "corroborated")
    uncorroborated = next(k for k, v in before.items() if v[0] == "uncorroborated")
    contradiction = next(k for k, v in before.items() if v[0] == "contradiction")
    wrong = ((corroborated, {"site_area_code": "110101", "at": "2020-01-01T00:00:00+00:00"}),
             (uncorroborated, {"area_code": "110101"}),
             (contradiction, {**before[contradiction][4], "at": "yesterday"}))
    for fid, detail in wrong:
        session.execute(update(ReportFinding).where(ReportFinding.id == fid)
                        .values(detail=detail))
    session.flush()
    run(session)
    after = stored(session)
    assert set(after) == set(before)
    for fid in (corroborated, uncorroborated, contradiction):
        assert after[fid][4] == before[fid][4] and after[fid][5] > LONG_AGO
    for fid in set(before) - {corroborated, uncorroborated, contradiction}:
        assert after[fid] == before[fid]


def test_a_changed_tolerance_replaces_the_rows_and_a_stale_finding_goes(session: Session) -> None:
    a_day(session)
    run(session)
    before = stored(session)
    report_id = session.scalar(select(ReportFinding.report_id))
    bogus = ReportFinding(id=uuid.uuid4(), report_id=report_id, finding_class="corroborated",
                          stop_seq=9, registration_id=None, tolerance_minutes=30,
                          detail={"area_code": HOME}, computed_at=LONG_AGO)
    session.add(bogus)
    session.flush()
    run(session, tolerance=45)
    after = stored(session)
    assert set(after) == set(before)
    assert {v[3] for v in after.values()} == {45}
