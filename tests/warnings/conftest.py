"""Warnings fixtures: three personas and an alert in Nanming district (520102)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest
from sqlalchemy import select

from passtrace.warnings import service
from passtrace.warnings.models import Alert
from tests.concurrency import (  # noqa: F401 - fixtures
    committed_client,
    committed_rt,
    committed_url,
)


@dataclass
class World:
    official: Any
    outsider: Any
    resident: Any
    alert: int


@pytest.fixture
def world(session, make_persona) -> World:  # type: ignore[no-untyped-def]
    official = make_persona("official", "area", "520102", name="南明疾控")
    outsider = make_persona("official", "area", "520103", name="云岩疾控")
    resident = make_persona("public", name="王五")
    assert service.raise_alert(session=session, rule_code="checkpoint_fever",
                               subject_kind="person", subject_key="h" * 64,
                               person_hash="h" * 64, masked="张*", area_code="520102",
                               evidence={"temperature": 38.2, "threshold": 37.3})
    session.commit()
    alert = session.scalar(select(Alert.id).where(Alert.subject_key == "h" * 64))
    assert alert is not None
    return World(official, outsider, resident, alert)
