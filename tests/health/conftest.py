"""Health fixtures: a person with an account, and flag helpers."""

from __future__ import annotations

import uuid
import zlib
from datetime import datetime, timedelta
from typing import Any

import pytest
from cbor2 import CBORTag, dumps, loads
from sqlalchemy.orm import Session

from passtrace.codec import b45decode, b45encode
from passtrace.core.clock import utcnow
from passtrace.core.runtime import Runtime
from passtrace.health import service as health
from passtrace.people import service as people_service
from passtrace.people.models import Person
from tests.conftest import next_id_number


def new_person(session: Session, rt: Runtime) -> Person:
    """A registered person (no account)."""
    return people_service.register(session=session, vault=rt.vault, actor=None,
                                   id_number=next_id_number(), name="张三",
                                   phone="13800000000")


def flag(session: Session, person_id: uuid.UUID, level: str = "yellow", *,
         until: datetime | None = None, key: str | None = None, reason: str = "fever_checkpoint",
         **kw: Any) -> bool:
    """Raise a flag with sensible defaults."""
    return health.raise_flag(session=session, person_id=person_id, level=level,
                             source=kw.pop("source", "fever_checkpoint"), reason=reason,
                             evidence=kw.pop("evidence", {"temperature": 37.8}),
                             until=until, dedupe_key=key or f"t:{uuid.uuid4().hex}", **kw)


@pytest.fixture
def person(session: Session, rt: Runtime) -> Person:
    """A person with no flags."""
    return new_person(session, rt)


def in_days(days: float) -> datetime:
    """A moment `days` from now."""
    return utcnow() + timedelta(days=days)


@pytest.fixture
def cast(make_persona, client):  # type: ignore[no-untyped-def]
    """A resident known in 520102 (a pending pass there), two officials of 520102, one of
    another district (520103), an admin."""
    from tests.passes.helpers import apply

    resident = make_persona("public", name="李四")
    apply(client, resident.headers, areas=["520102006"])
    return {"resident": resident,
            "official": make_persona("official", "area", "520102"),
            "second": make_persona("official", "area", "520102"),
            "other": make_persona("official", "area", "520103"),
            "admin": make_persona("admin")}


def tamper_status_code(code: str, **private: object) -> str:
    """Change the status claims inside a genuine status code and keep its signature."""
    raw = b45decode(code[4:])
    if raw[0] == 0x78:
        raw = zlib.decompress(raw)
    protected, unprotected, payload, signature = loads(raw).value
    claims = loads(payload)
    claims[-65538].update(private)
    return "ST1:" + b45encode(dumps(CBORTag(18, [protected, unprotected, dumps(claims),
                                                 signature])))
