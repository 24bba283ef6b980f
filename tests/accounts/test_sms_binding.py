"""Binding by a code texted to the phone on file, through a real local SMS gateway."""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from datetime import timedelta

import pytest
from sqlalchemy import func, select, update

from passtrace.accounts.models import SmsBindCode
from passtrace.audit.models import AuditEntry
from passtrace.core import gateway_signature
from passtrace.core.clock import utcnow
from passtrace.core.outbox import OutboxMessage
from passtrace.demo import demo_id_number
from passtrace.jobs.delivery import deliver_due
from tests.accounts.identity_helpers import compound_with_resident, login, sign_up
from tests.jobs.gateway import SECRET, Gateway, free_port, with_gateways

EN = {"Accept-Language": "en"}


@pytest.fixture
def sms_gateway(rt) -> Iterator[Gateway]:  # type: ignore[no-untyped-def]
    """A local SMS gateway, up, and the runtime's settings pointing at it."""
    g = Gateway(port=free_port())
    g.start()
    rt.settings = with_gateways(rt.settings, sms=g)
    yield g
    g.stop()


def _request(client, headers, id_number: str, name: str,  # type: ignore[no-untyped-def]
             lang: dict[str, str] = EN):
    return client.post("/api/v1/me/bind/sms", json={"id_number": id_number, "name": name},
                       headers={**headers, **lang})


def _confirm(client, headers, code: str):  # type: ignore[no-untyped-def]
    return client.post("/api/v1/me/bind/sms/confirm", json={"code": code},
                       headers={**headers, **EN})


def _texted_code(rt, gateway: Gateway, phone: str) -> str:  # type: ignore[no-untyped-def]
    """Run the outbox delivery once; return the code in the one SMS to `phone`."""
    before = len(gateway.received)
    assert deliver_due(rt).sent == 1
    [sms] = gateway.received[before:]
    body, headers = gateway.bodies[-1], gateway.headers[-1]
    # The gateway can tell the message came from us.
    gateway_signature.verify(headers.get(gateway_signature.HEADER), body, secret=SECRET)
    assert sms["phone"] == phone
    found = re.search(r"\b(\d{6})\b", sms["text"])
    assert found, sms["text"]
    return found.group(1)


def test_a_code_texted_to_the_phone_on_file_binds_the_account(
        client, make_persona, rt, session, sms_gateway):
    office = compound_with_resident(client, make_persona, phone="13885019999")
    assert sign_up(client, "chenjing", office.id_number, "陈静").json()["person_id"] is None
    me = login(client, "chenjing")
    resp = _request(client, me, office.id_number, "陈 静", lang={})
    assert resp.status_code == 202, resp.text
    assert resp.json()["message"] == (
        "如果这些信息与我们的记录一致，验证码已发送到登记的手机，10分钟内有效。")
    code = _texted_code(rt, sms_gateway, "13885019999")
    # In the user's language: zh_CN by default.
    assert sms_gateway.received[-1]["text"] == (
        f"【PassTrace】您的账号绑定验证码是 {code}，10分钟内有效。如非本人操作，请忽略本短信。")
    # Only a keyed hash of the code is stored.
    stored = session.scalar(select(SmsBindCode.code_hash))
    assert stored and code not in stored

    resp = _confirm(client, me, code)
    assert resp.status_code == 200, resp.text
    assert resp.json()["person_id"] == office.person_id
    assert client.get("/api/v1/me/person", headers=me).json()["name"] == "陈*"
    entry = session.scalar(select(AuditEntry).where(
        AuditEntry.action == "account.bind",
        AuditEntry.subject_person_id == uuid.UUID(office.person_id)))
    assert entry is not None and entry.detail["method"] == "sms"
    assert entry.detail["source"] == "community"


def test_the_sms_is_in_the_language_the_account_chose(client, make_persona, rt, sms_gateway):
    office = compound_with_resident(client, make_persona)
    sign_up(client, "chenjing", office.id_number, "陈静")
    me = login(client, "chenjing")
    assert client.put("/api/v1/me/locale", json={"locale": "en"}, headers=me).status_code == 204
    # The account's choice wins over the language of the request.
    assert _request(client, me, office.id_number, "陈静", lang={}).status_code == 202
    code = _texted_code(rt, sms_gateway, "13885019999")
    assert sms_gateway.received[-1]["text"].startswith(
        f"[PassTrace] Your code to link your account is {code}")


def test_the_answer_is_the_same_whatever_is_on_file(client, make_persona, rt, session,
                                                    sms_gateway):
    office = compound_with_resident(client, make_persona)
    other_id = demo_id_number("520102", "19900101", "777")
    sign_up(client, "mallory01", other_id, "随便")
    attacker = login(client, "mallory01")
    answers = [
        _request(client, attacker, other_id, "随便"),  # no such person
        _request(client, attacker, office.id_number, "王五"),  # the wrong name
        _request(client, attacker, office.id_number, "陈静"),  # a match: texted to the owner
    ]
    assert {r.status_code for r in answers} == {202}
    assert len({r.text for r in answers}) == 1
    assert str(office.id_number) not in answers[0].text and "9999" not in answers[2].text
    # Only the match reached a phone, and it was the phone on file, not one the caller gave.
    assert session.scalar(select(func.count()).select_from(OutboxMessage)) == 1
    _texted_code(rt, sms_gateway, "13885019999")


def test_five_wrong_codes_lock_the_code(client, make_persona, rt, session, sms_gateway):
    office = compound_with_resident(client, make_persona)
    sign_up(client, "chenjing", office.id_number, "陈静")
    me = login(client, "chenjing")
    _request(client, me, office.id_number, "陈静")
    code = _texted_code(rt, sms_gateway, "13885019999")
    wrong = f"{(int(code) + 1) % 1_000_000:06d}"
    for _ in range(5):
        resp = _confirm(client, me, wrong)
        assert resp.status_code == 422
        assert resp.json()["error"]["code"] == "sms_code_refused"
    # The right code no longer works: a guesser gets five tries, not a million.
    resp = _confirm(client, me, code)
    assert resp.status_code == 422 and resp.json()["error"]["code"] == "sms_code_refused"
    assert client.get("/api/v1/me", headers=me).json()["person_id"] is None
    session.expire_all()
    assert session.scalar(select(SmsBindCode.failed_tries)) == 5


def test_an_expired_code_is_refused(client, make_persona, rt, session, sms_gateway):
    office = compound_with_resident(client, make_persona)
    sign_up(client, "chenjing", office.id_number, "陈静")
    me = login(client, "chenjing")
    _request(client, me, office.id_number, "陈静")
    code = _texted_code(rt, sms_gateway, "13885019999")
    session.execute(update(SmsBindCode).values(expires_at=utcnow() - timedelta(seconds=1)))
    session.commit()
    resp = _confirm(client, me, code)
    assert resp.status_code == 422 and resp.json()["error"]["code"] == "sms_code_refused"
    assert client.get("/api/v1/me", headers=me).json()["person_id"] is None


def test_a_person_with_an_account_gets_no_sms_and_a_used_code_binds_nothing_more(
        client, make_persona, rt, session, sms_gateway):
    office = compound_with_resident(client, make_persona)
    sign_up(client, "chenjing", office.id_number, "陈静")
    me = login(client, "chenjing")
    _request(client, me, office.id_number, "陈静")
    code = _texted_code(rt, sms_gateway, "13885019999")
    assert _confirm(client, me, code).status_code == 200
    sign_up(client, "mallory01", office.id_number, "陈静")
    attacker = login(client, "mallory01")
    assert _request(client, attacker, office.id_number, "陈静").status_code == 202
    assert deliver_due(rt).sent == 0  # nothing texted: the person already has an account
    assert _confirm(client, attacker, code).status_code == 422


def test_requests_are_rate_limited_per_id_number(client, make_persona, rt, sms_gateway):
    office = compound_with_resident(client, make_persona)
    sign_up(client, "chenjing", office.id_number, "陈静")  # one attempt for this ID number
    me = login(client, "chenjing")
    codes = [_request(client, me, office.id_number, "陈静").status_code for _ in range(5)]
    assert codes == [202, 202, 202, 202, 429]


def test_a_bad_id_number_is_named_and_nothing_is_sent(client, make_persona, rt, session,
                                                      sms_gateway):
    sign_up(client, "someone", demo_id_number("520102", "19800101", "001"), "某人")
    me = login(client, "someone")
    resp = _request(client, me, demo_id_number("520102", "19800101", "001")[:-1], "某人")
    assert resp.status_code == 422
    assert "id_number" in resp.json()["error"]["fields"]
    assert session.scalar(select(func.count()).select_from(OutboxMessage)) == 0


def test_a_visitor_invite_is_no_phone_on_file(client, make_persona, rt, session,
                                              sms_gateway):
    """Any resident may invite anyone as a visitor, typing their ID number and name with any
    phone: that claim must not receive the binding code, or a resident who knows someone's
    ID number and name takes over their record (passes, household, status)."""
    office = compound_with_resident(client, make_persona, phone="13885019999")
    # Mallory lives in another compound, her own account proofed with its office's code.
    there = "520102006002"
    assert client.post("/api/v1/communities", json={
        "code": there, "name": "另一小区", "address": "南明区测试路2号"},
        headers=office.official.headers).status_code == 201
    manager = make_persona("community_manager", "community", there)
    assert client.post(f"/api/v1/communities/{there}/buildings", json={
        "name": "1", "units": ["1"]}, headers=manager.headers).status_code == 201
    mallory_id = demo_id_number("520102", "19900101", "777")
    resp = client.post(f"/api/v1/communities/{there}/residents", json={
        "building": "1", "unit": "1", "room": "102", "id_number": mallory_id,
        "name": "马洛丽", "phone": "13900002222", "role": "owner"}, headers=manager.headers)
    assert resp.status_code == 201, resp.text
    resp = client.post(f"/api/v1/communities/{there}/residents/{resp.json()['id']}/claim-code",
                       headers=manager.headers)
    assert resp.status_code == 201, resp.text
    code = resp.json()["code"]
    assert sign_up(client, "mallory", mallory_id, "马洛丽", code=code).status_code == 201
    mallory = login(client, "mallory")
    # She invites Chen Jing as a visitor, with her own second phone: the newest claim.
    resp = client.post("/api/v1/visits", headers=mallory, json={
        "name": "陈静", "phone": "13900003333", "id_number": office.id_number,
        "purpose": "探亲 / family visit", "visit_date": utcnow().date().isoformat()})
    assert resp.status_code == 201, resp.text
    # A fresh, unlinked account of hers asks for Chen Jing's binding code.
    other_id = demo_id_number("520102", "19900101", "778")
    sign_up(client, "mallory2", other_id, "马洛丽")
    second = login(client, "mallory2")
    assert _request(client, second, office.id_number, "陈静").status_code == 202
    # The code goes to the phone the compound's office holds, never to the invite's.
    assert _texted_code(rt, sms_gateway, "13885019999")
    assert all(m["phone"] != "13900003333" for m in sms_gateway.received)
