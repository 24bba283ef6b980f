"""Every warnings page and API operation: the official of the area may, an official of
another area gets 404 (or an empty list), a resident 403; refusals change nothing."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import func, select

from passtrace.areas.models import AreaRisk
from passtrace.audit.models import AuditEntry
from passtrace.warnings.models import Alert

ONE, LIST, CREATE = "one", "list", "create"
ROUTES: list[tuple[str, str, str, Any, str]] = [
    ("api-alerts", "get", "/api/v1/alerts", None, LIST),
    ("api-alert", "get", "/api/v1/alerts/{alert}", None, ONE),
    ("api-ack", "post", "/api/v1/alerts/{alert}/acknowledge", None, ONE),
    ("api-resolve", "post", "/api/v1/alerts/{alert}/resolve",
     {"resolution": "contacted", "note": "已电话联系"}, ONE),
    ("api-dismiss", "post", "/api/v1/alerts/{alert}/dismiss", {"reason": "测温枪故障"}, ONE),
    ("api-rates", "get", "/api/v1/alerts/rates", None, LIST),
    ("api-risk-create", "post", "/api/v1/area-risks",
     {"area_code": "520102001", "level": "high", "note": "聚集性疫情"}, CREATE),
    ("api-risk-history", "get", "/api/v1/area-risks/history?area=520102", None, ONE),
    ("page-alerts", "get", "/warnings/alerts", None, LIST),
    ("page-alert", "get", "/warnings/alerts/{alert}", None, ONE),
    ("page-ack", "post", "/warnings/alerts/{alert}/acknowledge", {}, ONE),
    ("page-resolve", "post", "/warnings/alerts/{alert}/resolve",
     {"resolution": "tested", "note": ""}, ONE),
    ("page-dismiss", "post", "/warnings/alerts/{alert}/dismiss", {"reason": "误测"}, ONE),
    ("page-rates", "get", "/warnings/rates", None, LIST),
    ("page-risks", "get", "/warnings/risk-areas", None, LIST),
    ("page-risk-create", "post", "/warnings/risk-areas",
     {"area_code": "520102001", "level": "medium", "note": "x"}, CREATE),
]


def _snapshot(session) -> tuple[Any, ...]:  # type: ignore[no-untyped-def]
    session.expire_all()
    alerts = tuple(session.execute(select(Alert.id, Alert.status, Alert.assigned_to)
                                   .order_by(Alert.id)))
    risks = session.scalar(select(func.count()).select_from(AreaRisk))
    return alerts, risks


def _call(client, who, method, path, body, world):  # type: ignore[no-untyped-def]
    path = path.replace("{alert}", str(world.alert))
    kw: dict[str, Any] = {"headers": who.headers, "follow_redirects": False}
    if body is not None:
        kw["json" if path.startswith("/api/") else "data"] = body
    return client.request(method.upper(), path, **kw)


@pytest.mark.parametrize(("name", "method", "path", "body", "outsider"), ROUTES,
                         ids=[r[0] for r in ROUTES])
def test_each_persona_gets_what_it_should(client, session, world, name, method, path, body,
                                          outsider) -> None:  # type: ignore[no-untyped-def]
    before = _snapshot(session)
    resident = _call(client, world.resident, method, path, body, world)
    assert resident.status_code == 403, (name, resident.text[:300])
    other = _call(client, world.outsider, method, path, body, world)
    if outsider == ONE:
        assert other.status_code == 404, (name, other.text[:300])
    elif outsider == CREATE:
        assert other.status_code in (403, 422), (name, other.text[:300])
    else:
        assert other.status_code == 200 and "张*" not in other.text, name
    assert _snapshot(session) == before, name
    ok = _call(client, world.official, method, path, body, world)
    assert ok.status_code in (200, 201, 303), (name, ok.status_code, ok.text[:300])
    if name in ("api-alerts", "page-alerts", "api-alert", "page-alert"):
        assert "张*" in ok.text


def test_the_queue_read_is_in_the_persons_access_log_and_the_alert_explains_itself(
        client, session, world):  # type: ignore[no-untyped-def]
    resp = client.get(f"/api/v1/alerts/{world.alert}", headers=world.official.headers)
    body = resp.json()
    assert "38.2" in body["explanation"] and body["subject"] == "张*"
    assert body["rule_title"] == "卡口或门岗测温发热"
    session.expire_all()
    assert session.scalar(select(func.count()).select_from(AuditEntry).where(
        AuditEntry.action == "alert.read", AuditEntry.resource_id == str(world.alert))) == 1


def test_resolve_then_nothing_more_and_dismissals_feed_the_rate(client, session, world):  # type: ignore[no-untyped-def]
    h = world.official.headers
    done = client.post(f"/api/v1/alerts/{world.alert}/dismiss", json={"reason": "测温枪故障"},
                       headers=h)
    assert done.status_code == 200 and done.json()["status"] == "dismissed"
    again = client.post(f"/api/v1/alerts/{world.alert}/resolve",
                        json={"resolution": "tested"}, headers=h)
    assert again.status_code == 409 and "已关闭" in again.json()["error"]["message"]
    [rate] = client.get("/api/v1/alerts/rates", headers=h).json()["items"]
    assert (rate["rule"], rate["closed"], rate["dismissed"], rate["false_alarm_rate"]) == (
        "checkpoint_fever", 1, 1, 1.0)
    page = client.get("/warnings/rates", headers=h)
    assert "100%" in page.text and "卡口或门岗测温发热" in page.text


def test_bad_input_is_refused_clearly(client, session, world):  # type: ignore[no-untyped-def]
    h = world.official.headers
    before = _snapshot(session)
    empty = client.post(f"/api/v1/alerts/{world.alert}/dismiss", json={"reason": ""}, headers=h)
    assert empty.status_code == 422
    page = client.post(f"/warnings/alerts/{world.alert}/dismiss", data={"reason": "  "},
                       headers=h)
    assert page.status_code == 422 and "请说明为什么是误报。" in page.text
    wrong = client.post(f"/api/v1/alerts/{world.alert}/assign",
                        json={"user_id": str(world.outsider.user.id)}, headers=h)
    assert wrong.status_code == 422 and "user_id" in wrong.json()["error"]["fields"]
    bad_cursor = client.get("/api/v1/alerts?cursor=%%%", headers=h)
    assert bad_cursor.status_code == 422
    assert _snapshot(session) == before


def test_assign_to_an_official_of_the_area(client, session, world, make_persona):  # type: ignore[no-untyped-def]
    colleague = make_persona("official", "area", "520102", name="同事")
    resp = client.post(f"/api/v1/alerts/{world.alert}/assign",
                       json={"user_id": str(colleague.user.id)}, headers=world.official.headers)
    assert resp.status_code == 200 and resp.json()["assigned_to"] == str(colleague.user.id)
    page = client.get(f"/warnings/alerts/{world.alert}", headers=world.official.headers)
    assert "同事" in page.text


def test_only_admins_change_rules_and_the_change_is_audited(client, session, world,
                                                          make_persona):  # type: ignore[no-untyped-def]
    body = {"severity": "medium", "enabled": True, "params": {"speed_kmh": 200}}
    refused = client.put("/api/v1/warning-rules/impossible_travel", json=body,
                         headers=world.official.headers)
    assert refused.status_code == 403
    admin = make_persona("admin")
    out = client.put("/api/v1/warning-rules/impossible_travel",
                     json={**body, "params": {"speed_kmh": 5}}, headers=admin.headers)
    assert out.status_code == 422 and "speed_kmh" in out.json()["error"]["fields"]
    ok = client.put("/api/v1/warning-rules/impossible_travel", json=body, headers=admin.headers)
    assert ok.status_code == 200 and ok.json()["params"] == {"speed_kmh": 200}
    session.expire_all()
    entry = session.scalar(select(AuditEntry).where(AuditEntry.action == "rule.update"))
    assert entry is not None and entry.detail["before"]["params"] == {"speed_kmh": 120}
    listed = {r["code"]: r for r in client.get("/api/v1/warning-rules",
                                               headers=world.official.headers).json()["items"]}
    assert listed["impossible_travel"]["severity"] == "medium"
    page = client.post("/warnings/rules/missing_reports",
                       data={"severity": "high", "param_days": "abc", "enabled": "on"},
                       headers=admin.headers)
    assert page.status_code == 422 and "请输入" in page.text
