"""A case's timeline: the person's registrations, stays and reported stops and trips inside
the exposure window, on one time axis. Reading it is a read of the person's data: audited."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from passtrace.audit import service as audit_service
from passtrace.cases.models import Case
from passtrace.core.clock import local_today
from passtrace.core.security import Principal
from passtrace.registrations.models import Registration, Stay
from passtrace.reports.models import DailyReport, ReportStop
from passtrace.sites.models import Site

# Per kind: a window is at most 60 days, so this only bounds a person seen at a gate
# every few minutes for weeks; the page says when rows were left out.
MAX_ROWS = 1000
KINDS = ("registration", "stay", "stop", "trip")


@dataclass(frozen=True)
class Item:
    """One thing on the axis: an instant (end None) or an interval."""

    kind: str
    start: datetime
    end: datetime | None
    place: str
    direction: str | None = None
    decision: str | None = None
    mode: str | None = None
    ref: str | None = None
    seat: str | None = None
    area_code: str | None = None
    closed_by: str | None = None
    external_id: str | None = None


@dataclass(frozen=True)
class Timeline:
    """What the case page shows, oldest first, and whether a kind was cut at MAX_ROWS."""

    items: list[Item]
    truncated: bool


def _site_names(session: Session, ids: set[object]) -> dict[object, str]:
    if not ids:
        return {}
    return dict(session.execute(select(Site.id, Site.name).where(Site.id.in_(ids))).all())


def _registrations(session: Session, case: Case) -> list[Registration]:
    return list(session.scalars(
        select(Registration).where(Registration.person_hash == case.person_hash,
                                   Registration.occurred_at >= case.window_start,
                                   Registration.occurred_at < case.window_end)
        .order_by(Registration.occurred_at).limit(MAX_ROWS)))


def _stays(session: Session, case: Case) -> list[Stay]:
    # Overlapping the window: started before it ends and ended after it starts.
    return list(session.scalars(
        select(Stay).where(Stay.person_hash == case.person_hash,
                           Stay.started_at < case.window_end,
                           Stay.ended_at > case.window_start,
                           Stay.started_at >= case.window_start - timedelta(days=2))
        .order_by(Stay.started_at).limit(MAX_ROWS)))


def _stops(session: Session, case: Case) -> list[tuple[DailyReport, list[ReportStop]]]:
    # A report's date is local; its stops may run past midnight, so read a day either side.
    first = local_today(case.window_start) - timedelta(days=1)
    last = local_today(case.window_end) + timedelta(days=1)
    reports = session.scalars(
        select(DailyReport).where(DailyReport.person_hash == case.person_hash,
                                  DailyReport.report_date >= first,
                                  DailyReport.report_date <= last)
        .order_by(DailyReport.report_date).limit(MAX_ROWS))
    return [(r, list(r.stops)) for r in reports]


def _inside(case: Case, start: datetime, end: datetime | None) -> bool:
    return start < case.window_end and (end or start) >= case.window_start


def gather(*, session: Session, case: Case) -> Timeline:
    """Collect the timeline (not audited: read() is what pages and the API call)."""
    regs, stays = _registrations(session, case), _stays(session, case)
    names = _site_names(session, {r.site_id for r in regs} | {s.site_id for s in stays})
    items = [Item("registration", r.occurred_at, None, names.get(r.site_id, ""),
                  direction=r.direction, decision=r.decision, external_id=r.external_id)
             for r in regs]
    items += [Item("stay", s.started_at, s.ended_at, names.get(s.site_id, ""),
                   closed_by=s.closed_by) for s in stays]
    truncated = len(regs) == MAX_ROWS or len(stays) == MAX_ROWS
    for report, stops in _stops(session, case):
        previous: ReportStop | None = None
        for stop in stops:
            if stop.mode and previous is not None:
                left = previous.depart_at or previous.arrive_at
                if _inside(case, left, stop.arrive_at):
                    items.append(Item("trip", left, stop.arrive_at, stop.place,
                                      mode=stop.mode, ref=stop.ref, seat=stop.seat,
                                      area_code=stop.area_code,
                                      external_id=report.external_id))
            if _inside(case, stop.arrive_at, stop.depart_at):
                items.append(Item("stop", stop.arrive_at, stop.depart_at, stop.place,
                                  area_code=stop.area_code, mode=stop.mode,
                                  external_id=report.external_id))
            previous = stop
    items.sort(key=lambda i: (i.start, KINDS.index(i.kind)))
    return Timeline(items=items, truncated=truncated)


def read(*, session: Session, actor: Principal | None, case: Case) -> Timeline:
    """The timeline, audited as a read of the person's movements (their access log shows it)."""
    timeline = gather(session=session, case=case)
    audit_service.record(session=session, actor=actor, action="case.timeline",
                         resource_type="case", resource_id=case.id,
                         subject_person_id=case.person_id,
                         detail={"items": len(timeline.items)})
    return timeline
