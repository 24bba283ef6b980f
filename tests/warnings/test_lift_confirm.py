"""Lifting a risk area is two steps: a confirmation naming the area and level that asks
why, then the lift. No reason, no lift (page and API alike); the reason is kept and shown
in the area's history."""

from __future__ import annotations

import re
import uuid

from sqlalchemy import select

from passtrace.areas.models import AreaRisk
from passtrace.audit.models import AuditEntry


def _declare(client, world) -> str:  # type: ignore[no-untyped-def]
    made = client.post("/api/v1/area-risks", headers=world.official.headers, json={
        "area_code": "520102", "level": "high", "note": "聚集性疫情"})
    assert made.status_code == 201, made.text
    return made.json()["id"]


def _csrf(html: str) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert found
    return found.group(1)


def _live(session, risk_id: str) -> bool:  # type: ignore[no-untyped-def]
    session.expire_all()
    return session.get(AreaRisk, uuid.UUID(risk_id)).lifted_at is None


def test_the_list_asks_before_lifting_and_needs_a_reason(client, session, world) -> None:
    risk_id = _declare(client, world)
    h = world.official.headers
    listing = client.get("/warnings/risk-areas", headers=h).text
    # The list's Lift is a link to the confirmation, not a form that lifts at once.
    assert f'action="/warnings/risk-areas/{risk_id}/lift"' not in listing
    assert f'href="/warnings/risk-areas/{risk_id}/lift"' in listing
    confirm = client.get(f"/warnings/risk-areas/{risk_id}/lift", headers=h)
    assert confirm.status_code == 200
    what = re.search(r'id="lift-what">(.*?)</p>', confirm.text, re.S)
    assert what and "南明区" in what.group(1) and "高风险" in what.group(1)
    refused = client.post(f"/warnings/risk-areas/{risk_id}/lift", headers=h,
                          data={"csrf_token": _csrf(confirm.text), "reason": "   "})
    assert refused.status_code == 422
    assert "请说明解除风险区域的原因。" in refused.text and 'id="lift-form"' in refused.text
    assert _live(session, risk_id)
    done = client.post(f"/warnings/risk-areas/{risk_id}/lift", headers=h,
                       data={"csrf_token": _csrf(confirm.text), "reason": "连续14天无新增"},
                       follow_redirects=False)
    assert done.status_code == 303
    assert not _live(session, risk_id)
    assert session.get(AreaRisk, uuid.UUID(risk_id)).lift_reason == "连续14天无新增"
    entry = session.scalars(select(AuditEntry).where(
        AuditEntry.action == "risk.end", AuditEntry.resource_id == risk_id)).one()
    assert "连续14天无新增" in str(entry.detail)
    history = client.get("/warnings/risk-areas", headers=h).text
    assert "解除原因：连续14天无新增" in history


def test_the_api_refuses_a_lift_without_a_reason(client, session, world) -> None:
    risk_id = _declare(client, world)
    h = world.official.headers
    for body in ({}, {"json": {"reason": "  "}}):
        resp = client.post(f"/api/v1/area-risks/{risk_id}/end", headers=h, **body)
        assert resp.status_code == 422, resp.text
        assert "原因" in resp.json()["error"]["fields"]["reason"], resp.text
        assert _live(session, risk_id)
    english = client.post(f"/api/v1/area-risks/{risk_id}/end",
                          headers={**h, "Accept-Language": "en"})
    assert english.json()["error"]["fields"]["reason"] == "Say why the risk area is lifted."
    lifted = client.post(f"/api/v1/area-risks/{risk_id}/end", headers=h,
                         json={"reason": "清零"})
    assert lifted.status_code == 200 and lifted.json()["lift_reason"] == "清零"
    history = client.get("/api/v1/area-risks/history?area=520102", headers=h).json()
    assert history["items"][0]["lift_reason"] == "清零"


def test_only_the_areas_officials_see_the_confirmation(client, session, world) -> None:
    risk_id = _declare(client, world)
    assert client.get(f"/warnings/risk-areas/{risk_id}/lift",
                      headers=world.outsider.headers).status_code == 404
    assert client.get(f"/warnings/risk-areas/{risk_id}/lift",
                      headers=world.resident.headers).status_code == 403
