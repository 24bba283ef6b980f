"""Verification stored by the statement that finds it, and run in parts (both databases).

On PostgreSQL the chunk statement writes the findings itself (verify_sql.STORE): their
ids and details must be exactly what the Python path (SQLite) writes, so a finding keeps
its id whichever wrote it. The job and the command line verify a span of days in parts
at once (verify.verify_in_parts), each part a run of consecutive reports on a connection
of its own: the findings must be those of one run over the span.
"""

from __future__ import annotations

import json
import random
import uuid
from datetime import UTC, date, timedelta
from typing import Any

from sqlalchemy import Text, cast, delete, select
from sqlalchemy.orm import Session

from passtrace.core.db import own_connections
from passtrace.tracing import verify
from passtrace.tracing.models import ReportFinding
from tests.concurrency import is_postgres, tag
from tests.tracing.verify_world import DAY, ELSEWHERE, HOME, OFFICE, VWorld, at, build


def test_stored_ids_and_details_are_the_python_paths(session: Session) -> None:
    w = build(session)
    p, e = w.person()
    r = w.report(e, p, [(HOME, at("07:00"), at("08:00")), (OFFICE, at("09:00"), at("12:00"))])
    # A time with microseconds: isoformat() writes them, a whole second it does not.
    seen = at("07:45") + timedelta(microseconds=123456)
    w.seen(p, HOME, seen)
    w.seen(p, ELSEWHERE, at("21:00"))
    verify.verify(session=session, first=DAY, last=DAY)
    session.flush()
    rows = session.execute(select(ReportFinding, cast(ReportFinding.detail, Text).label("raw"))
                           .where(ReportFinding.report_id == r.id)).all()
    by_class = {f.finding_class: (f, raw) for f, raw in rows}
    assert set(by_class) == {"corroborated", "unobservable", "unreported_visit"}
    for f, raw in by_class.values():
        assert f.id == verify.finding_id(f.report_id, f.finding_class, f.stop_seq,
                                         f.registration_id)
        assert json.loads(raw) == f.detail
    corroborated, raw = by_class["corroborated"]
    expected = {"site_area_code": w.sites[HOME].area_code,
                "at": seen.astimezone(UTC).isoformat()}
    assert expected["at"].endswith(".123456+00:00")
    assert raw == json.dumps(expected)
    visit, raw = by_class["unreported_visit"]
    assert raw == json.dumps({"site_area_code": w.sites[ELSEWHERE].area_code,
                              "at": at("21:00").astimezone(UTC).isoformat()})
    stop = next(f for cls, (f, _) in by_class.items() if cls not in (
        "corroborated", "unreported_visit"))
    assert stop.stop_seq == 2 and stop.detail == {"area_code": OFFICE}


def _findings(session: Session, report_ids: list[uuid.UUID]) -> set[tuple[Any, ...]]:
    return {(f.id, f.report_id, f.finding_class, f.stop_seq, f.registration_id,
             f.tolerance_minutes, json.dumps(f.detail, sort_keys=True))
            for f in session.scalars(select(ReportFinding)
                                     .where(ReportFinding.report_id.in_(report_ids)))}


def _two_days(w: VWorld, first: date) -> list[uuid.UUID]:
    """Seven reports over two days, each with a corroborated stop, an uncorroborated one
    (someone else was seen there) and an unreported visit."""
    ids = []
    stranger, _ = w.person()
    for day in (first, first + timedelta(days=1)):
        w.seen(stranger, OFFICE, at("10:00", day))
    for n in range(7):
        day = first + timedelta(days=n % 2)
        p, e = w.person()
        ids.append(w.report(e, p, [(HOME, at("07:00", day), at("08:00", day)),
                                   (OFFICE, at("09:00", day), at("12:00", day))], day=day).id)
        w.seen(p, HOME, at(f"07:{10 + n:02d}", day))
        w.seen(p, ELSEWHERE, at(f"18:{10 + n:02d}", day))
    return ids


def test_a_span_in_parts_finds_what_one_run_finds(committed_rt) -> None:  # type: ignore[no-untyped-def]
    # Past days no other test of the shared database files reports on (a run verifies
    # every report of its days; a registration's id is never older than its occurrence).
    first = date(2019, 1, 1) + timedelta(days=random.randrange(1500))
    last = first + timedelta(days=1)
    with committed_rt.sessions() as session:
        ids = _two_days(build(session, credit_code=f"91{tag()}{tag()}"[:18]), first)
        session.commit()
        cuts = verify._cuts(session, first, last, 3)
    # Three runs of the seven reports (2 / 2 / 3), in the order the runs page them.
    assert len(cuts) == 2 and cuts[0] < cuts[1]
    assert own_connections(committed_rt.sessions) == is_postgres(committed_rt)

    ticks: list[int] = []  # the command line's progress bar advances by these
    parts = verify.verify_in_parts(sessions=committed_rt.sessions, first=first, last=last,
                                   parts=3, progress=ticks.append)
    with committed_rt.sessions() as session:
        in_parts = _findings(session, ids)
        session.execute(delete(ReportFinding).where(ReportFinding.report_id.in_(ids)))
        session.commit()
    with committed_rt.sessions() as session:
        one = verify.verify(session=session, first=first, last=last)
        session.commit()
        in_one_run = _findings(session, ids)

    assert in_parts == in_one_run and len(in_parts) == 21
    assert parts.reports == one.reports == sum(ticks) == 7
    assert len(ticks) == (3 if is_postgres(committed_rt) else 1)  # a chunk per part
    assert dict(parts.counts) == dict(one.counts)
    assert {c for _i, _r, c, *_ in in_parts} == {
        "corroborated", "uncorroborated", "unreported_visit"}


def test_parts_check_their_input_before_anything_runs(committed_rt) -> None:  # type: ignore[no-untyped-def]
    import pytest

    from passtrace.core.errors import InvalidState

    with pytest.raises(InvalidState):
        verify.verify_in_parts(sessions=committed_rt.sessions, first=DAY, last=DAY,
                               tolerance=1)
    with pytest.raises(InvalidState):
        verify.verify_in_parts(sessions=committed_rt.sessions, first=DAY,
                               last=DAY - timedelta(days=1))


def _snapshot(session: Session) -> set[tuple[Any, ...]]:
    session.expire_all()
    return {(f.id, f.report_id, f.finding_class, f.stop_seq, f.registration_id,
             f.tolerance_minutes, raw) for f, raw in session.execute(
                 select(ReportFinding, cast(ReportFinding.detail, Text).label("raw")))}


def _varied_day(session: Session) -> None:
    w = build(session)
    p, e = w.person()
    other, _ = w.person()
    w.report(e, p, [(HOME, at("07:00"), at("08:00")), (OFFICE, at("09:00"), at("12:00")),
                    (ELSEWHERE, at("13:00"), at("14:00"))])
    w.seen(p, HOME, at("07:45") + timedelta(microseconds=5))   # corroborated
    w.seen(p, HOME, at("10:00"))                                # contradiction
    w.seen(other, ELSEWHERE, at("13:30"))                       # uncorroborated
    w.seen(p, ELSEWHERE, at("21:00"))                           # unreported visit


def test_without_pgcrypto_python_makes_the_same_findings(session: Session,
                                                         monkeypatch: Any) -> None:
    _varied_day(session)
    verify.verify(session=session, first=DAY, last=DAY)
    by_the_statement = _snapshot(session)
    assert len(by_the_statement) == 4
    session.execute(delete(ReportFinding))
    monkeypatch.setattr(verify.verify_sql, "pgcrypto_digest", lambda conn: None)
    stats = verify.verify(session=session, first=DAY, last=DAY)
    assert _snapshot(session) == by_the_statement and stats.findings == 4


def test_a_digest_function_earlier_on_the_search_path_is_not_called(session: Session) -> None:
    import pytest

    if session.get_bind().dialect.name != "postgresql":
        pytest.skip("pgcrypto and search paths are PostgreSQL's")
    from sqlalchemy import text

    _varied_day(session)
    # Another role's function of the same name, in a schema searched first (rolled back
    # with the test's transaction): every id would be the same constant.
    session.execute(text("CREATE SCHEMA shadow"))
    session.execute(text("CREATE FUNCTION shadow.digest(bytea, text) RETURNS bytea "
                         "LANGUAGE sql AS $$ SELECT '\\x00'::bytea || repeat('a', 40)::bytea $$"))
    session.execute(text("SET LOCAL search_path = shadow, public"))
    verify.verify(session=session, first=DAY, last=DAY)
    rows = session.scalars(select(ReportFinding)).all()
    assert len(rows) == 4
    for f in rows:
        assert f.id == verify.finding_id(f.report_id, f.finding_class, f.stop_seq,
                                         f.registration_id)


def test_a_failing_part_stops_the_others_and_nothing_is_kept(committed_rt,  # type: ignore[no-untyped-def]
                                                             monkeypatch: Any) -> None:
    import threading

    import pytest

    first = date(2019, 1, 1) + timedelta(days=random.randrange(1500))
    last = first + timedelta(days=1)
    with committed_rt.sessions() as session:
        ids = _two_days(build(session, credit_code=f"91{tag()}{tag()}"[:18]), first)
        session.commit()
        doomed = verify._cuts(session, first, last, 3)[0]  # the second part's first report
    failed = threading.Event()
    real = verify._verify_chunk

    def chunk(session, chunk_ids, *args, **kw):  # type: ignore[no-untyped-def]
        if doomed[1] in chunk_ids:
            failed.set()
            raise RuntimeError("boom")
        failed.wait(10)  # the other parts finish their chunk after the failure
        return real(session, chunk_ids, *args, **kw)

    monkeypatch.setattr(verify, "_verify_chunk", chunk)
    with pytest.raises(RuntimeError, match="boom"):  # the cause, not "stopped"
        verify.verify_in_parts(sessions=committed_rt.sessions, first=first, last=last,
                               parts=3)
    with committed_rt.sessions() as session:
        assert _findings(session, ids) == set()
