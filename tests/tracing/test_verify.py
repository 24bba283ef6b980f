"""Trajectory verification on hand-built days whose answers are known (both databases)."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from passtrace.tracing import verify
from passtrace.tracing.models import ReportFinding
from tests.tracing.verify_world import DAY, ELSEWHERE, HOME, OFFICE, at, build


def findings(session: Session, report_id) -> list[tuple[str, int | None, object]]:  # type: ignore[no-untyped-def]
    rows = session.scalars(select(ReportFinding).where(ReportFinding.report_id == report_id))
    return sorted(((f.finding_class, f.stop_seq, f.registration_id) for f in rows),
                  key=lambda t: (t[0], t[1] or 0, str(t[2])))


def run(session: Session, **kw) -> verify.Stats:  # type: ignore[no-untyped-def]
    stats = verify.verify(session=session, first=DAY, last=DAY, **kw)
    session.flush()
    return stats


def test_each_class_on_a_known_day(session: Session) -> None:
    w = build(session)
    p, e = w.person()
    other, _ = w.person()
    r = w.report(e, p, [(HOME, at("07:00"), at("08:00")),
                        (OFFICE, at("09:00"), at("12:00")),
                        (ELSEWHERE, at("13:00"), at("14:00")),
                        (OFFICE, at("15:00"), at("17:00"))])
    home = w.seen(p, HOME, at("07:45"))             # stop 1 corroborated
    away = w.seen(p, HOME, at("10:00"))             # at home during the office stop
    w.seen(other, ELSEWHERE, at("13:30"))           # someone else seen there: observable
    late = w.seen(p, ELSEWHERE, at("21:00"))        # no stop covers the evening
    run(session)
    assert findings(session, r.id) == sorted([
        ("contradiction", 2, away.id),
        ("corroborated", 1, home.id),
        ("uncorroborated", 3, None),
        ("unobservable", 4, None),
        ("unreported_visit", None, late.id),
    ], key=lambda t: (t[0], t[1] or 0, str(t[2])))


def test_exactly_the_tolerance_corroborates_one_minute_more_does_not(session: Session) -> None:
    w = build(session)
    p, e = w.person()
    q, f = w.person()
    on_edge = w.report(e, p, [(OFFICE, at("09:00"), at("12:00"))])
    past_edge = w.report(f, q, [(OFFICE, at("09:00"), at("12:00"))])
    reg = w.seen(p, OFFICE, at("12:30"))
    late = w.seen(q, OFFICE, at("12:31"))
    early = w.seen(q, OFFICE, at("08:29"))
    run(session)
    assert findings(session, on_edge.id) == [("corroborated", 1, reg.id)]
    # The site saw someone in the window (p at 12:30), just not q.
    classes = findings(session, past_edge.id)
    assert ("uncorroborated", 1, None) in classes
    assert {c for c, _, _ in classes} == {"uncorroborated", "unreported_visit"}
    assert {x for c, _, x in classes if c == "unreported_visit"} == {late.id, early.id}


def test_a_last_stop_without_departure_runs_to_midnight(session: Session) -> None:
    w = build(session)
    p, e = w.person()
    r = w.report(e, p, [(OFFICE, at("09:00"), at("18:00")), (HOME, at("19:00"), None)])
    # Past midnight, within the tolerance of the day's end: still tonight's home stop,
    # and not an unreported visit of this report (another day).
    night = w.seen(p, HOME, at("00:25", DAY.replace(day=21)))
    run(session)
    assert ("corroborated", 2, night.id) in findings(session, r.id)


def test_a_stop_without_departure_ends_at_the_next_arrival(session: Session) -> None:
    w = build(session)
    p, e = w.person()
    r = w.report(e, p, [(OFFICE, at("09:00"), None), (HOME, at("18:00"), None)])
    noon = w.seen(p, ELSEWHERE, at("13:00"))    # inside the office stop: contradiction
    travel = w.seen(p, HOME, at("17:40"))       # within the home stop's tolerance: fine
    run(session)
    assert findings(session, r.id) == [("contradiction", 1, noon.id),
                                       ("corroborated", 2, travel.id)]


def test_a_stay_corroborates_a_stop_it_overlaps(session: Session) -> None:
    w = build(session)
    p, e = w.person()
    r = w.report(e, p, [(OFFICE, at("13:00"), at("14:00"))])
    stay = w.stay(p, OFFICE, at("08:00"), at("18:00"))
    run(session)
    assert findings(session, r.id) == [("corroborated", 1, stay.id)]


def test_the_enterprise_tolerance_and_the_override(session: Session) -> None:
    w = build(session, tolerance=10)
    p, e = w.person()
    r = w.report(e, p, [(OFFICE, at("09:00"), at("12:00"))])
    reg = w.seen(p, OFFICE, at("12:20"))
    run(session)
    assert ("corroborated", 1, reg.id) not in findings(session, r.id)
    run(session, tolerance=20)
    assert findings(session, r.id) == [("corroborated", 1, reg.id)]


def test_rerunning_keeps_the_same_findings_and_ids(session: Session) -> None:
    w = build(session)
    p, e = w.person()
    w.report(e, p, [(HOME, at("07:00"), at("08:00")), (OFFICE, at("09:00"), None)])
    w.seen(p, HOME, at("07:10"))
    w.seen(p, ELSEWHERE, at("23:00"))
    run(session)
    first = sorted((f.id, f.finding_class) for f in session.scalars(select(ReportFinding)))
    stats = run(session)
    again = sorted((f.id, f.finding_class) for f in session.scalars(select(ReportFinding)))
    assert first == again and stats.reports == 1 and len(first) == 2


def test_a_person_with_no_registrations_and_no_stops(session: Session) -> None:
    w = build(session)
    p, e = w.person()
    r = w.report(e, p, [])
    q, f = w.person()
    s = w.report(f, q, [(OFFICE, at("09:00"), at("10:00"))])
    run(session)
    assert findings(session, r.id) == []
    assert findings(session, s.id) == [("unobservable", 1, None)]
    assert verify.accuracy({"unobservable": 1}) is None
    assert verify.accuracy({"corroborated": 3, "uncorroborated": 1, "unobservable": 5}) == 0.75


def test_a_bad_tolerance_changes_nothing(session: Session) -> None:
    import pytest

    from passtrace.core.errors import InvalidState

    w = build(session)
    p, e = w.person()
    w.report(e, p, [(OFFICE, at("09:00"), at("10:00"))])
    with pytest.raises(InvalidState):
        run(session, tolerance=0)
    assert session.scalars(select(ReportFinding)).first() is None


def test_the_job_verifies_yesterday_and_today_only(rt, session: Session) -> None:  # type: ignore[no-untyped-def]
    from datetime import timedelta

    from passtrace.core import clock
    from passtrace.jobs.schedule import scheduled_jobs
    from passtrace.tracing import jobs

    assert "tracing.verify-reports" in [j.name for j in scheduled_jobs()]
    w = build(session)
    reports = []
    for back in (0, 1, 2):
        p, e = w.person()
        day = DAY - timedelta(days=back)
        reports.append(w.report(e, p, [(OFFICE, at("09:00", day), at("10:00", day))], day=day))
    session.commit()
    clock.freeze(at("12:00"))
    try:
        stats = jobs.verify_recent(rt)
    finally:
        clock.freeze(None)
    assert stats.reports == 2
    assert [len(findings(session, r.id)) for r in reports] == [1, 1, 0]


def test_registrations_in_any_day_partition_count_whatever_their_ids_say(
        session: Session) -> None:
    """One registration whose id is of its own day (an import: its own day partition on
    PostgreSQL) and one whose id was made weeks later (a late upload: today's partition)
    both corroborate their stops; verification reads each partition whose rows occurred
    on the report's day, not the partitions named after it."""
    from passtrace.registrations import imports, partitions
    from passtrace.registrations.models import Registration

    if session.get_bind().dialect.name == "postgresql":
        partitions.create_ahead(session, today=DAY, days_ahead=0)
    w = build(session)
    p, e = w.person()
    r = w.report(e, p, [(HOME, at("07:00"), at("08:00")), (OFFICE, at("09:00"), at("12:00"))])
    own_day = Registration(id=imports.import_id("paper-1", at("07:30")),
                           site_id=w.sites[HOME].id, lane="1", device_key="import",
                           occurred_at=at("07:30"), received_at=at("07:30"), direction="in",
                           method="import", decision="allow", person_hash=p.id_hash,
                           person_masked="", id_last4="1234", external_id="paper-1")
    session.add(own_day)
    session.flush()
    late = w.seen(p, OFFICE, at("10:00"))  # its id made now, weeks after
    run(session)
    assert findings(session, r.id) == [("corroborated", 1, own_day.id),
                                       ("corroborated", 2, late.id)]
