"""Offline rows the server judged otherwise: the officials' list and the alert feed.

`registration_disagreements` is the one query: the site page lists a day's rows for
the officials over the site's area, and the early-warning platform reads the same
function by area and time, keyed on the stable alert kinds of rules.offline.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from passtrace.core.areacodes import significant_prefix
from passtrace.registrations.models import Registration
from passtrace.rules.offline import ALERT_KINDS
from passtrace.sites.models import Site

LIMIT_MAX = 1000

__all__ = ["ALERT_KINDS", "Disagreement", "registration_disagreements"]


@dataclass(frozen=True)
class Disagreement:
    """One offline row whose device decision the server's judgement contradicts."""

    id: uuid.UUID
    kind: str  # an ALERT_KINDS code
    site_code: str
    area_code: str
    lane: str
    device_key: str
    method: str
    direction: str
    occurred_at: datetime
    received_at: datetime
    device_decision: str
    device_reasons: list[str]
    decision: str
    reasons: list[str]

    @property
    def found_by_server(self) -> list[str]:
        """The reasons the server found that the device did not give."""
        return [r for r in self.reasons if r not in self.device_reasons]


def registration_disagreements(*, session: Session, area_code: str, since: datetime,
                               until: datetime, site_id: uuid.UUID | None = None,
                               limit: int = 200) -> list[Disagreement]:
    """Flagged rows at sites inside an area (or one site), occurred in [since, until), newest first.

    No authorization here: callers check it (the site page: officials over the area;
    the early-warning platform: a system role). No person data is returned.
    """
    stmt = (select(Registration, Site.code, Site.area_code)
            .join(Site, Site.id == Registration.site_id)
            .where(Registration.disagreement.is_not(None),
                   Registration.occurred_at >= since, Registration.occurred_at < until,
                   Site.area_code.startswith(significant_prefix(area_code), autoescape=True))
            .order_by(Registration.occurred_at.desc(), Registration.id.desc())
            .limit(max(1, min(limit, LIMIT_MAX))))
    if site_id is not None:
        stmt = stmt.where(Registration.site_id == site_id)
    return [Disagreement(
        id=r.id, kind=r.disagreement or "", site_code=code, area_code=area, lane=r.lane,
        device_key=r.device_key, method=r.method, direction=r.direction,
        occurred_at=r.occurred_at, received_at=r.received_at,
        device_decision=r.device_decision or "", device_reasons=list(r.device_reasons or []),
        decision=r.decision, reasons=list(r.reasons)) for r, code, area in session.execute(stmt)]
