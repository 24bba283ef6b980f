"""Helpers for pass tests."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from fastapi.testclient import TestClient


def window(hours_from_now: float = -1, days: float = 3) -> tuple[str, str]:
    """Return an ISO validity window starting relative to now."""
    start = datetime.now(UTC) + timedelta(hours=hours_from_now)
    return start.isoformat(), (start + timedelta(days=days)).isoformat()


def apply_body(**overrides: Any) -> dict[str, Any]:
    """Return a valid application body, with overrides."""
    start, end = window()
    body: dict[str, Any] = {"purpose": "commute", "reason": "去医院上班", "valid_from": start,
                            "valid_until": end, "areas": ["520102006"], "plate": "贵A12345",
                            "companions": 0}
    body.update(overrides)
    return body


def apply(client: TestClient, headers: dict[str, str], **overrides: Any) -> dict[str, Any]:
    """Apply for a pass through the API and return it."""
    resp = client.post("/api/v1/passes", json=apply_body(**overrides), headers=headers)
    assert resp.status_code == 201, resp.text
    return resp.json()  # type: ignore[no-any-return]


def approve(client: TestClient, pass_id: str, official: dict[str, str],
            holder: dict[str, str]) -> dict[str, Any]:
    """Approve a pass as `official` and return it as its holder reads it (with the pass
    text: the approver's answer never carries it)."""
    resp = client.post(f"/api/v1/passes/{pass_id}/approve", json={"reason": ""},
                       headers=official)
    assert resp.status_code == 200, resp.text
    assert resp.json()["token"] is None
    mine = client.get(f"/api/v1/passes/{pass_id}", headers=holder)
    assert mine.status_code == 200, mine.text
    return mine.json()  # type: ignore[no-any-return]
