"""The filer's recent stops, offered as one-tap chips on today's form.

A train trip typed from scratch takes a dozen fields; the same trip again is a tap per
stop. Only the filer's own reports are read (the caller passes their own employee id),
so no one else's places ever show, and nothing is audited: reading your own data is not
an access by someone else.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from passtrace.areas import service as area_service
from passtrace.core.clock import LOCAL_TZ
from passtrace.core.i18n import get_locale
from passtrace.reports.models import DailyReport, ReportStop

SHOWN = 6
# Stops read to find them: a few weeks of a busy commuter, bounded whatever the history.
SCANNED = 200


@dataclass(frozen=True)
class RecentStop:
    """One distinct place (and how it was reached), with the times it was last used."""

    area: str
    area_name: str
    place: str
    mode: str
    ref: str
    seat: str
    arrive: str
    depart: str


def recent_stops(*, session: Session, employee_id: uuid.UUID,
                 limit: int = SHOWN) -> list[RecentStop]:
    """Distinct stops of the employee's own reports: newest report first, in day order.

    Two stops are the same when place, area and transport (mode, number, seat) are;
    the times shown are those of the newest use.
    """
    rows = session.execute(
        select(ReportStop.area_code, ReportStop.place, ReportStop.mode, ReportStop.ref,
               ReportStop.seat, ReportStop.arrive_at, ReportStop.depart_at)
        .join(DailyReport, DailyReport.id == ReportStop.report_id)
        .where(DailyReport.employee_id == employee_id)
        .order_by(DailyReport.report_date.desc(), ReportStop.seq)
        .limit(SCANNED)).all()
    seen: dict[tuple[str, ...], tuple[datetime, datetime | None]] = {}
    for area, place, mode, ref, seat, arrive, depart in rows:
        key = (area, place or "", mode or "", ref or "", seat or "")
        if key not in seen:
            seen[key] = (arrive, depart)
        if len(seen) >= limit:
            break
    names = area_service.names(session=session, codes=sorted({k[0] for k in seen}),
                               locale=get_locale())
    return [RecentStop(area=k[0], area_name=names.get(k[0], k[0]), place=k[1], mode=k[2],
                       ref=k[3], seat=k[4], arrive=_hhmm(t[0]), depart=_hhmm(t[1]))
            for k, t in seen.items()]


def _hhmm(value: datetime | None) -> str:
    return value.astimezone(LOCAL_TZ).strftime("%H:%M") if value else ""
