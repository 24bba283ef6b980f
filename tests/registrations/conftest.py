"""Fixtures for checkpoint tests: a site, its staff, residents with and without passes."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import pytest
from fastapi.testclient import TestClient

from passtrace.core.ids import uuid7
from tests.passes.helpers import apply, approve

SITE = "CP-T-01"


@dataclass
class Checkpoint:
    """A site with an official over it, staff on duty, and a resident with a valid pass."""

    official: Any
    staff: Any
    resident: Any
    pass_: dict[str, Any]


def site_body(**overrides: Any) -> dict[str, Any]:
    """A valid site definition (Nanming district, two lanes)."""
    body: dict[str, Any] = {"code": SITE, "name": "花果园卡口", "kind": "road_checkpoint",
                            "area_code": "520102006", "lanes": ["1", "2"],
                            "latitude": 26.56, "longitude": 106.69}
    body.update(overrides)
    return body


def reg_body(**overrides: Any) -> dict[str, Any]:
    """A registration as the checkpoint page sends it (id made on the device)."""
    now = datetime.now(UTC).isoformat()
    body: dict[str, Any] = {"id": str(uuid7()), "site": SITE, "lane": "1",
                            "device_key": "phone-1", "occurred_at": now, "sent_at": now,
                            "direction": "in", "method": "qr", "temperature": 36.5}
    body.update(overrides)
    return body


@pytest.fixture
def checkpoint(client: TestClient, make_persona: Callable[..., Any]) -> Checkpoint:
    official = make_persona("official", "area", "520102", name="南明区防控办")
    resp = client.post("/api/v1/sites", json=site_body(), headers=official.headers)
    assert resp.status_code == 200, resp.text
    staff = make_persona("checkpoint_staff", "site", SITE, name="值守员")
    resident = make_persona("public", name="张三")
    p = apply(client, resident.headers)
    approved = approve(client, p["id"], official.headers, resident.headers)
    return Checkpoint(official=official, staff=staff, resident=resident, pass_=approved)
