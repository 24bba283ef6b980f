"""Case fixtures: three personas and hand-built registrations, stays and reports."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from passtrace.audit.models import AuditEntry
from passtrace.cases.models import Case
from passtrace.core.clock import LOCAL_TZ
from passtrace.core.ids import uuid7
from passtrace.registrations.models import Registration
from passtrace.sites.models import Site
from tests.conftest import next_id_number


@pytest.fixture
def cast(make_persona):  # type: ignore[no-untyped-def]
    """The official of Nanming district, an official of Yunyan, a resident."""
    return {"official": make_persona("official", "area", "520102", name="南明疾控"),
            "outsider": make_persona("official", "area", "520103", name="云岩疾控"),
            "resident": make_persona("public", name="王五")}


def local(*args: int) -> datetime:
    """A local (Asia/Shanghai) wall-clock time as an aware datetime in UTC."""
    return datetime(*args, tzinfo=LOCAL_TZ).astimezone(UTC)


def new_case(client, headers: dict[str, str], **fields: Any) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    """Open a case through the API; an unknown fresh ID number unless one is given."""
    body: dict[str, Any] = {"id_number": next_id_number(), "onset_date": "2026-11-20",
                            "isolation_date": "2026-11-25", "area_code": "520102"}
    body.update(fields)
    resp = client.post("/api/v1/cases", json=body, headers=headers)
    assert resp.status_code == 201, resp.text
    return dict(resp.json())


def count_cases(session: Session) -> int:
    """How many cases are stored (bad input must leave it unchanged)."""
    session.expire_all()
    return session.scalar(select(func.count()).select_from(Case)) or 0


def audit_actions(session: Session, person_id: uuid.UUID | str) -> list[str]:
    """The audit actions in a person's access log, oldest first."""
    session.expire_all()
    pid = uuid.UUID(str(person_id))
    return list(session.scalars(select(AuditEntry.action).where(
        AuditEntry.subject_person_id == pid).order_by(AuditEntry.id)))


def make_site(session: Session, name: str = "南明检查站", kind: str = "checkpoint",
              area_code: str = "520102") -> Site:
    """A site to register people at."""
    site = Site(name=name, kind=kind, area_code=area_code, code=f"T{uuid.uuid4().hex[:8]}")
    session.add(site)
    session.flush()
    return site


def add_registration(session: Session, site: Site, person_hash: str, at: datetime,
                     direction: str = "through") -> Registration:
    """A registration row as a device would have stored it."""
    reg = Registration(id=uuid7(), site_id=site.id, lane="1", device_key="test",
                       occurred_at=at, received_at=at, direction=direction, method="id_typed",
                       person_hash=person_hash, decision="allow", reasons=[])
    session.add(reg)
    session.flush()
    return reg
