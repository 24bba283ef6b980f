"""Reveals in clear: a purpose and a real reason, an hourly limit per user, supervisors told."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from passtrace.core.runtime import Runtime
from passtrace.people import reveal_limit
from passtrace.people.models import RevealCount
from tests.concurrency import committed_persona, race
from tests.passes.helpers import apply

FORM = Path(__file__).resolve().parents[2] / "src/passtrace/web/templates/people/_reveal_form.html"


@pytest.fixture
def tight(rt: Runtime) -> Runtime:
    """Small limits so a test reaches them quickly (the runtime is this test's own)."""
    rt.settings = rt.settings.model_copy(update={"reveal_limit_per_hour": 3,
                                                 "reveal_alert_count": 2})
    return rt


def _reveal(client, persona, person_id, purpose="pass_review",  # type: ignore[no-untyped-def]
            reason="核查通行证申请材料", lang="zh-CN"):
    body = {"field": "id_number", "reason": reason}
    if purpose is not None:
        body["purpose"] = purpose
    return client.post(f"/api/v1/people/{person_id}/reveal", json=body,
                       headers={**persona.headers, "Accept-Language": lang})


@pytest.fixture
def holder_and_official(client, make_persona):  # type: ignore[no-untyped-def]
    holder = make_persona("public", name="张三")
    p = apply(client, holder.headers, areas=["520102006"])
    return p["holder"]["person_id"], make_persona("official", "area", "520102")


def test_a_short_reason_or_no_purpose_is_refused_naming_the_field(client, holder_and_official):
    person_id, official = holder_and_official
    short = _reveal(client, official, person_id, reason="abcd")
    assert short.status_code == 422
    assert set(short.json()["error"]["fields"]) == {"reason"}
    assert "至少 8 个字符" in short.json()["error"]["fields"]["reason"]
    missing = _reveal(client, official, person_id, purpose=None, lang="en")
    assert missing.status_code == 422
    assert missing.json()["error"]["fields"] == {
        "purpose": "Choose the purpose of viewing this data."}
    unknown = _reveal(client, official, person_id, purpose="curiosity")
    assert unknown.status_code == 422 and "purpose" in unknown.json()["error"]["fields"]
    assert _reveal(client, official, person_id).status_code == 200


def test_past_the_hourly_limit_the_api_answers_429_in_the_readers_language(
        client, tight, holder_and_official):
    person_id, official = holder_and_official
    for _ in range(3):
        assert _reveal(client, official, person_id).status_code == 200
    refused = _reveal(client, official, person_id)
    assert refused.status_code == 429
    assert refused.json()["error"]["code"] == "rate_limited"
    assert "本小时查看的个人信息过多（最多 3 次）" in refused.json()["error"]["message"]
    assert int(refused.headers["Retry-After"]) <= 3601
    assert "value" not in refused.json()
    en = _reveal(client, official, person_id, lang="en")
    assert en.status_code == 429 and "at most 3" in en.json()["error"]["message"]


def test_the_limit_is_per_reader_and_the_page_shows_the_refusal(
        client, tight, make_persona, holder_and_official):
    person_id, official = holder_and_official
    for _ in range(3):
        assert _reveal(client, official, person_id).status_code == 200
    page = client.post(f"/people/{person_id}/reveal", headers=official.headers, data={
        "field": "id_number", "purpose": "identity_check", "reason": "核对身份证件信息",
        "back": "/"})
    assert page.status_code == 429 and 'id="revealed-value"' not in page.text
    assert "本小时查看的个人信息过多" in page.text
    colleague = make_persona("official", "area", "520102")
    assert _reveal(client, colleague, person_id).status_code == 200


def test_supervisors_over_the_area_get_a_notice_and_see_the_alert(
        client, tight, make_persona, holder_and_official):
    person_id, official = holder_and_official
    supervisor = make_persona("official", "area", "5201")
    elsewhere = make_persona("official", "area", "520300")
    for _ in range(2):
        assert _reveal(client, official, person_id).status_code == 200
    notices = client.get("/notices", headers=supervisor.headers).text
    assert "测试用户在一小时内查看明文个人信息 2 次。" in notices
    assert "在一小时内查看明文个人信息" not in client.get(
        "/notices", headers=elsewhere.headers).text
    assert "在一小时内查看明文个人信息" not in client.get(
        "/notices", headers=official.headers).text
    unusual = client.get("/audit/unusual", headers=supervisor.headers).text
    alerts = unusual.split('id="alerts"')[1].split("</table>")[0]
    # The reader is named by role and office, never by login name.
    assert "防控办工作人员" in alerts and ">2<" in alerts
    assert official.user.username not in alerts
    elsewhere_page = client.get("/audit/unusual", headers=elsewhere.headers).text
    assert ">2<" not in elsewhere_page.split('id="alerts"')[1].split("</table>")[0]


def test_the_alert_goes_through_the_outbox_when_a_gateway_is_set(
        client, rt, session, make_persona, holder_and_official):
    from sqlalchemy import select

    from passtrace.core.outbox import OutboxMessage
    rt.settings = rt.settings.model_copy(update={
        "reveal_alert_count": 1, "notify_webhook_url": "http://127.0.0.1:9/hook",
        "gateway_signing_secret": "s" * 32})
    person_id, official = holder_and_official
    make_persona("official", "area", "5201")
    assert _reveal(client, official, person_id).status_code == 200
    payloads = [m.payload for m in session.scalars(select(OutboxMessage).where(
        OutboxMessage.channel == "webhook"))]
    assert any(p["kind"] == "reveal_alert" and "查看明文个人信息 1 次" in p["text"]
               for p in payloads)


def test_the_page_offers_exactly_the_purposes_the_service_accepts() -> None:
    offered = set(re.findall(r'<option value="([a-z_]+)">', FORM.read_text()))
    assert offered == set(reveal_limit.PURPOSES)


def test_two_reveals_at_the_limit_at_once_let_only_one_through(
        committed_rt, committed_client):  # type: ignore[no-untyped-def]
    rt = committed_rt
    rt.settings = rt.settings.model_copy(update={"reveal_limit_per_hour": 5})
    reader = committed_persona(rt, committed_client, "official", "area", "520102")
    with rt.sessions() as session:
        for _ in range(4):
            reveal_limit.bump(session=session, user_id=reader.user_id)
        session.commit()

    def one(session):  # type: ignore[no-untyped-def]
        return reveal_limit.check(session=session, settings=rt.settings, user_id=reader.user_id)

    outcomes = race(rt, one, one)
    assert outcomes.count("ok") == 1, outcomes
    assert set(outcomes) <= {"ok", "RateLimited", "busy"}
    with rt.sessions() as session:
        from sqlalchemy import select
        assert session.scalar(select(RevealCount.count).where(
            RevealCount.user_id == reader.user_id)) == 5


def test_the_notice_never_names_a_reader_by_login_name(client, tight, make_persona,
                                                       holder_and_official):
    person_id, _ = holder_and_official
    nameless = make_persona("official", "area", "520102", name="")  # display name = login
    assert nameless.user.display_name == nameless.user.username
    supervisor = make_persona("official", "area", "5201")
    for _ in range(2):
        assert _reveal(client, nameless, person_id).status_code == 200
    notices = client.get("/notices", headers=supervisor.headers).text
    assert "一名工作人员在一小时内查看明文个人信息 2 次。" in notices
    assert nameless.user.username not in notices
    english = client.get("/notices", headers={**supervisor.headers,
                                              "Accept-Language": "en"}).text
    assert "A staff member viewed personal data in clear 2 times" in english
