"""Old and recent rows of the kinds the retention job deletes."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from passtrace.accounts.models import IdentityAttempt
from passtrace.core.clock import utcnow
from passtrace.core.ids import uuid7
from passtrace.registrations.models import Registration
from passtrace.sites.models import Site


def site(session: Session) -> Site:
    s = Site(code=f"RET-{uuid.uuid4().hex[:8]}", name="留存测试", kind="checkpoint",
             area_code="520102")
    session.add(s)
    session.flush()
    return s


def registration(session: Session, site_id: uuid.UUID, when: datetime) -> Registration:
    r = Registration(id=uuid7(), site_id=site_id, lane="1", device_key="dev", occurred_at=when,
                     received_at=when, direction="in", method="manual", decision="allow",
                     person_masked="张*", id_last4="1234")
    session.add(r)
    return r


def attempt(session: Session, when: datetime) -> IdentityAttempt:
    a = IdentityAttempt(key_hash=uuid.uuid4().hex, window_start=when, count=1)
    session.add(a)
    return a


def days_ago(n: float) -> datetime:
    return utcnow() - timedelta(days=n)
