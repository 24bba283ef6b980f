"""The chunked SQL verification gives the findings of a small Python reference
(tests/tracing/verify_reference.py) on a hand-built day full of boundaries (both databases)."""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from passtrace.core.ids import uuid7
from passtrace.enterprises.models import Enterprise
from passtrace.registrations.models import Registration, Stay
from passtrace.reports.models import DailyReport, ReportStop
from passtrace.sites.models import Site
from passtrace.tracing import verify
from passtrace.tracing.models import ReportFinding
from tests.tracing import verify_reference as ref
from tests.tracing.verify_world import DAY, ELSEWHERE, HOME, OFFICE, VWorld, at, build

NEXT = DAY + timedelta(days=1)


def stored(session: Session) -> set[tuple[Any, ...]]:
    return {(f.id, f.report_id, f.finding_class, f.stop_seq, f.registration_id,
             f.tolerance_minutes, tuple(sorted(f.detail.items())))
            for f in session.scalars(select(ReportFinding))}


def expected(session: Session, tolerance: int | None = None) -> set[tuple[Any, ...]]:
    """Every report's findings by the reference, from everything in the database."""
    sites = {s.id: s.area_code for s in session.scalars(select(Site))}
    regs = list(session.scalars(select(Registration)))
    stays = list(session.scalars(select(Stay)))

    def observable(p: str, lo: Any, hi: Any) -> bool:
        return any(sites[g.site_id].startswith(p) and lo <= g.occurred_at <= hi for g in regs)

    out = set()
    for r in session.scalars(select(DailyReport)):
        e = session.get(Enterprise, r.enterprise_id) if r.enterprise_id else None
        tol = tolerance or (e.verify_tolerance_minutes if e else verify.DEFAULT_TOLERANCE)
        stops = [ref.StopIn(s.seq, s.area_code, s.arrive_at, s.depart_at)
                 for s in session.scalars(select(ReportStop).where(ReportStop.report_id == r.id))]
        found = ref.classify(
            day=r.report_date, stops=stops, tolerance=timedelta(minutes=tol),
            registrations=[ref.Seen(g.id, sites[g.site_id], g.occurred_at) for g in regs
                           if g.person_hash and g.person_hash == r.person_hash],
            stays=[ref.Seen(z.id, sites[z.site_id], z.started_at, z.ended_at) for z in stays
                   if z.person_hash == r.person_hash],
            observable=observable)
        out |= {(verify.finding_id(r.id, cls, seq, reg), r.id, cls, seq, reg, tol,
                 tuple(sorted(detail.items()))) for cls, seq, reg, detail in found}
    return out


def open_stay(w: VWorld, person: Any, area: str, start: Any, end: Any) -> Stay:
    """A stay still open: its end is the assumed cap, not an observed "out"."""
    s = Stay(id=uuid7(), person_hash=person.id_hash, site_id=w.sites[area].id,
             started_at=start, ended_at=end, closed_by="cap")
    w.session.add(s)
    w.session.flush()
    return s


def boundary_day(session: Session) -> VWorld:
    w = build(session, tolerance=20)
    # A site of a 6-digit (district) code's area, and one outside it.
    district = Site(code=f"V-520100-{uuid.uuid4().hex[:6]}", name="核查测试点", kind="gate",
                    area_code="520102999001")
    session.add(district)
    session.flush()
    w.sites["520102999"] = district
    a, ea = w.person()      # edges of the tolerance and of the day
    w.report(ea, a, [(HOME, at("00:00"), at("07:00")), (OFFICE, at("08:00"), at("12:00")),
                     (HOME, at("19:00"), None)])
    w.seen(a, OFFICE, at("12:20"))                  # exactly T = 20 after: corroborates
    w.seen(a, OFFICE, at("12:21"))                  # T + 1: covered by the same window? no
    w.seen(a, HOME, at("00:20", NEXT))              # midnight + T: tonight's home stop
    w.seen(a, ELSEWHERE, at("00:00", NEXT))         # next day: never this day's visit
    w.seen(a, ELSEWHERE, at("23:59"))               # inside the open last stop: contradiction
    w.seen(a, ELSEWHERE, at("00:00"))               # the first instant of the day
    b, eb = w.person()      # stays: an open one, one ending exactly at a window's start
    w.report(eb, b, [(OFFICE, at("09:00"), at("10:00")), (HOME, at("13:00"), at("14:00")),
                     ("520100", at("15:00"), at("16:00"))])
    open_stay(w, b, OFFICE, at("06:00"), at("18:00"))
    w.stay(b, HOME, at("10:00"), at("12:40"))       # ends exactly at 13:00 - T
    w.seen(b, OFFICE, at("09:30"))                  # a registration wins over the stay
    w.seen(b, "520102999", at("16:20"))             # inside the district code's area
    c, ec = w.person()      # no registrations at all: observability only
    w.report(ec, c, [(HOME, at("08:00"), at("09:00")), (ELSEWHERE, at("10:00"), at("11:00"))])
    w.seen(None, HOME, at("08:00") - timedelta(minutes=20))  # someone else, exactly at lo
    w.seen(None, ELSEWHERE, at("09:39"))            # one minute before lo: unobservable
    d, ed = w.person()      # registrations but no stops; and one without any of both
    w.report(ed, d, [])
    w.seen(d, OFFICE, at("11:00"))
    w.seen(d, OFFICE, at("23:40", DAY - timedelta(days=1)))  # yesterday: not listed
    e, ee = w.person()
    w.report(ee, e, [])
    f, ef = w.person()      # departure before arrival; travel explained by the next stop
    w.report(ef, f, [(OFFICE, at("09:00"), at("08:30")), (HOME, at("09:30"), None)])
    w.seen(f, HOME, at("09:15"))                    # between the stops, in HOME's window
    w.seen(f, ELSEWHERE, at("09:00"))               # at the office stop's only instant
    h, _ = w.person()       # imported from another system: no employer, default tolerance
    imported = DailyReport(id=uuid7(), report_date=DAY, temperature=None,
                           submitted_at=at("20:00"), person_hash=h.id_hash, external_id="I-1")
    imported.stops.append(ReportStop(seq=1, area_code=OFFICE, arrive_at=at("09:00"),
                                     depart_at=at("10:00")))
    session.add(imported)
    session.flush()
    w.seen(h, OFFICE, at("10:25"))                  # within 30, not within the firm's 20
    return w


def test_the_sql_path_matches_the_reference_on_a_day_of_boundaries(session: Session) -> None:
    boundary_day(session)
    stats = verify.verify(session=session, first=DAY, last=DAY, chunk=2)
    session.flush()
    want = expected(session)
    assert stored(session) == want
    assert stats.findings == len(want) and stats.reports == 7
    classes = {c for _, _, c, *_ in want}
    assert classes == {"corroborated", "contradiction", "uncorroborated", "unobservable",
                       "unreported_visit"}


def test_pages_over_several_days_verify_every_report_once(session: Session) -> None:
    """Pages are keyed by (day, id): a next day's report whose id sorts before every
    report of the first day (an import's, made earlier) is verified once, as are the
    first day's, whatever the page size."""
    w = boundary_day(session)
    g, _ = w.person()
    early = DailyReport(id=uuid.UUID(int=1), report_date=NEXT, temperature=None,
                        submitted_at=at("20:00", NEXT), person_hash=g.id_hash,
                        external_id="EARLY-1")
    early.stops.append(ReportStop(seq=1, area_code=OFFICE, arrive_at=at("09:00", NEXT),
                                  depart_at=at("10:00", NEXT)))
    session.add(early)
    session.flush()
    w.seen(g, OFFICE, at("09:30", NEXT))
    for chunk in (1, 3, 100):
        stats = verify.verify(session=session, first=DAY, last=NEXT, chunk=chunk)
        session.flush()
        assert stats.reports == 8
        assert stored(session) == expected(session)
    assert any(f[1] == uuid.UUID(int=1) and f[2] == "corroborated" for f in stored(session))


def test_rerunning_after_changes_replaces_exactly_what_changed(session: Session) -> None:
    w = boundary_day(session)
    verify.verify(session=session, first=DAY, last=DAY)
    session.flush()
    first = stored(session)
    # Another tolerance: the same ids where the class holds, a new tolerance everywhere.
    verify.verify(session=session, first=DAY, last=DAY, tolerance=45, chunk=4)
    session.flush()
    assert stored(session) == expected(session, tolerance=45) != first
    # A late registration, and back to each enterprise's tolerance.
    g, eg = w.person()
    w.report(eg, g, [(OFFICE, at("09:00"), at("10:00"))])
    w.seen(g, OFFICE, at("09:05"))
    verify.verify(session=session, first=DAY, last=DAY)
    session.flush()
    assert stored(session) == expected(session)
    assert first < stored(session)
