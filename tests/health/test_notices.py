"""Notices: the resident hears of pass decisions (approve, reject, revoke) and of status
changes, in Chinese, with a link."""

from __future__ import annotations

from sqlalchemy import select

from passtrace.notices.models import Notice
from tests.health.conftest import flag
from tests.passes.helpers import apply


def _notices(client, headers) -> str:  # type: ignore[no-untyped-def]
    return client.get("/notices", headers=headers).text


def test_pass_decisions_reach_the_resident(client, session, cast) -> None:
    r, o = cast["resident"].headers, cast["official"].headers
    approved = apply(client, r)
    rejected = apply(client, r)
    assert client.post(f"/api/v1/passes/{approved['id']}/approve", headers=o,
                       json={"reason": ""}).status_code == 200
    assert client.post(f"/api/v1/passes/{rejected['id']}/reject", headers=o,
                       json={"reason": "材料不全"}).status_code == 200
    assert client.post(f"/api/v1/passes/{approved['id']}/revoke", headers=o, json={
        "reason": "所在区域风险等级调整", "reason_code": "risk_change"}).status_code == 200
    page = _notices(client, r)
    assert "您的通行证已获批准" in page, page
    assert "材料不全" in page
    kinds = set(session.scalars(select(Notice.kind).where(
        Notice.user_id == cast["resident"].user.id)))
    assert {"pass_approved", "pass_rejected", "pass_revoked"} <= kinds


def test_a_status_change_reaches_the_resident(client, session, cast) -> None:
    flag(session, cast["resident"].user.person_id, "red", reason="close_contact")
    session.commit()
    page = _notices(client, cast["resident"].headers)
    assert "您的健康码已转为红码" in page and 'href="/health/me"' in page
