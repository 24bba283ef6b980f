"""Appeals: one per flag, decided by an official over the person with a reason; the
person is told; the phone page shows status, why and history."""

from __future__ import annotations

import uuid

from sqlalchemy import select

from passtrace.health.models import StatusFlag
from passtrace.notices.models import Notice
from passtrace.people.models import Person
from tests.health.conftest import flag, in_days


def _flag_id(session, person_id):  # type: ignore[no-untyped-def]
    return session.scalar(select(StatusFlag.id).where(StatusFlag.person_id == person_id))


def test_appeal_granted_clears_the_flag_and_tells_the_person(client, session, cast) -> None:
    person_id = cast["resident"].user.person_id
    flag(session, person_id, "red", reason="close_contact", until=in_days(14))
    session.commit()
    r = cast["resident"].headers
    flag_id = _flag_id(session, person_id)
    resp = client.post("/api/v1/health/appeals", headers=r,
                       json={"flag_id": str(flag_id), "statement": "当天我不在现场"})
    assert resp.status_code == 201, resp.text
    appeal = resp.json()
    assert appeal["state"] == "pending" and not appeal["overdue"]
    again = client.post("/api/v1/health/appeals", headers=r,
                        json={"flag_id": str(flag_id), "statement": "再次申诉一下"})
    assert again.status_code == 409
    # the official of another area cannot see it; the resident cannot decide it
    other = client.get("/api/v1/health/appeals", headers=cast["other"].headers).json()
    assert appeal["id"] not in [a["id"] for a in other["items"]]
    decide = f"/api/v1/health/appeals/{appeal['id']}/decision"
    body = {"grant": True, "reason": "核实行程无接触"}
    assert client.post(decide, headers=cast["other"].headers, json=body).status_code == 404
    assert client.post(decide, headers=r, json=body).status_code == 403
    assert client.post(decide, headers=cast["official"].headers,
                       json={"grant": True, "reason": ""}).status_code == 422
    mine = client.get("/api/v1/health/appeals", headers=cast["official"].headers).json()
    assert appeal["id"] in [a["id"] for a in mine["items"]]
    resp = client.post(decide, headers=cast["official"].headers, json=body)
    assert resp.status_code == 200 and resp.json()["state"] == "granted"
    assert session.scalar(select(Person.status).where(Person.id == person_id)) == "green"
    assert client.post(decide, headers=cast["second"].headers, json=body).status_code == 409
    kinds = session.scalars(select(Notice.kind).where(
        Notice.user_id == cast["resident"].user.id)).all()
    assert "health.appeal" in kinds and "health.status" in kinds


def test_appeal_refused_keeps_the_flag_and_bad_appeals_are_refused(client, session,
                                                                  cast) -> None:
    person_id = cast["resident"].user.person_id
    flag(session, person_id, "yellow", reason="risk_area_visit", until=in_days(7))
    session.commit()
    r = cast["resident"].headers
    flag_id = _flag_id(session, person_id)
    assert client.post("/api/v1/health/appeals", headers=r, json={
        "flag_id": str(uuid.uuid4()), "statement": "没有这回事"}).status_code == 404
    assert client.post("/api/v1/health/appeals", headers=cast["second"].headers, json={
        "flag_id": str(flag_id), "statement": "替别人申诉"}).status_code == 404
    assert client.post("/api/v1/health/appeals", headers=r, json={
        "flag_id": str(flag_id), "statement": "短"}).status_code == 422
    appeal = client.post("/api/v1/health/appeals", headers=r, json={
        "flag_id": str(flag_id), "statement": "我只是路过"}).json()
    resp = client.post(f"/api/v1/health/appeals/{appeal['id']}/decision",
                       headers=cast["official"].headers,
                       json={"grant": False, "reason": "轨迹显示停留两小时"})
    assert resp.json()["state"] == "refused"
    assert session.scalar(select(Person.status).where(Person.id == person_id)) == "yellow"
    page = client.get("/health/me", headers=r)
    assert "轨迹显示停留两小时" in page.text and "申诉驳回" in page.text


def test_the_phone_page_shows_colour_masked_name_why_until_and_history(client, session,
                                                                        cast) -> None:
    r = cast["resident"].headers
    green = client.get("/health/me", headers=r)
    assert green.status_code == 200 and 'data-status="green"' in green.text
    assert "绿码" in green.text and "李*" in green.text and "<svg" in green.text
    person_id = cast["resident"].user.person_id
    flag(session, person_id, "yellow", reason="risk_area_visit", until=in_days(7))
    session.commit()
    page = client.get("/health/me", headers=r)
    assert 'data-status="yellow"' in page.text and "黄码" in page.text
    assert "您近期到过风险地区。" in page.text and 'id="status-until"' in page.text
    assert "新增标记" in page.text and "绿码 → 黄码" in page.text
    bad = client.post("/health/me/appeal", headers=r,
                      data={"flag_id": str(_flag_id(session, person_id)), "statement": "x"})
    assert bad.status_code == 422 and "请填写 4 到 500 个字符" in bad.text
    staff = client.get("/api/v1/health/me", headers=cast["official"].headers)
    assert staff.status_code == 404
