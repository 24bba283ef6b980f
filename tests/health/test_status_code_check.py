"""A checkpoint verifies a person's status code online: the status now wins over an older
code; a tampered, expired or foreign code is refused with a translated message."""

from __future__ import annotations

import base64
import os
import time

from sqlalchemy import func, select

from passtrace.audit.models import AuditEntry
from passtrace.codec.keys import SigningKey
from passtrace.codec.lists import verify_status_list
from passtrace.codec.status import StatusClaims, encode_status
from passtrace.health import offline
from passtrace.passes import keyring
from tests.health.conftest import flag, tamper_status_code

CHECK = "/api/v1/health/status-code/check"


def _code(client, resident) -> str:  # type: ignore[no-untyped-def]
    me = client.get("/api/v1/health/me", headers=resident.headers)
    assert me.status_code == 200
    return str(me.json()["code"])


def _staff(make_persona):  # type: ignore[no-untyped-def]
    return make_persona("checkpoint_staff", "site", "CP-NM-01").headers


def test_a_green_code_reads_green_with_the_masked_name(client, cast, make_persona) -> None:
    code = _code(client, cast["resident"])
    resp = client.post(CHECK, json={"code": code}, headers=_staff(make_persona))
    assert resp.status_code == 200, resp.text
    body = resp.json()
    assert body["level"] == "green" and body["code_level"] == "green"
    assert body["holder"] == "李*" and not body["changed_since"]
    assert body["valid_until"] > body["updated_at"]


def test_a_person_turned_red_after_the_code_was_issued_reads_red(client, session, cast,
                                                                 make_persona) -> None:
    code = _code(client, cast["resident"])
    flag(session, cast["resident"].user.person_id, "red", reason="close_contact")
    session.commit()
    body = client.post(CHECK, json={"code": code}, headers=_staff(make_persona)).json()
    assert body["level"] == "red" and body["code_level"] == "green" and body["changed_since"]


def test_the_status_list_names_the_reference_the_code_carries(client, session, rt, cast,
                                                              make_persona) -> None:
    person_id = cast["resident"].user.person_id
    flag(session, person_id, "yellow")
    session.commit()
    doc = client.get("/api/v1/health/status-list", headers=_staff(make_persona)).json()
    key = keyring.list_key_entry(session=session)
    der = base64.b64decode(str(key["public_key_der_b64"]))  # type: ignore[index]
    people = verify_status_list(doc["signed"], der)["people"]
    assert people[offline.status_ref(rt, person_id).hex()] == "yellow"


def test_a_tampered_code_is_refused_in_the_readers_language(client, cast,
                                                            make_persona) -> None:
    forged = tamper_status_code(_code(client, cast["resident"]), s=3, n="王*")
    resp = client.post(CHECK, json={"code": forged},
                       headers={**_staff(make_persona), "Accept-Language": "zh-CN"})
    assert resp.status_code == 422
    assert resp.json()["error"]["message"] == "此健康码不是真的（签名无法验证）。"


def test_an_expired_code_and_a_foreign_key_and_a_pass_are_refused(client, session, rt,
                                                                  make_persona) -> None:
    now = int(time.time())
    signer = keyring.current_signer(session=session, vault=rt.vault)
    session.commit()
    staff = _staff(make_persona)

    def claims(**kw: int) -> StatusClaims:
        base = {"issued_at": now - 3600, "expires_at": now - 1800, "updated_at": now - 7200}
        base.update(kw)
        return StatusClaims(code_id=os.urandom(16), level="green", holder="李*",
                            id_last4="1234", ref=os.urandom(16), **base)

    expired = encode_status(claims(), signer)
    resp = client.post(CHECK, json={"code": expired}, headers=staff)
    assert resp.status_code == 422 and resp.json()["error"]["message"] == \
        "此健康码已过期：请本人重新打开最新的健康码。"
    stranger = encode_status(claims(expires_at=now + 600), SigningKey.generate())
    resp = client.post(CHECK, json={"code": stranger}, headers=staff)
    assert resp.status_code == 422 and resp.json()["error"]["message"] == \
        "此健康码不是真的（签名密钥未知）。"
    for junk in ("PT1:6BFOXN*TS0BI$ZD", "ST1:!!!", "hello"):
        resp = client.post(CHECK, json={"code": junk}, headers=staff)
        assert resp.status_code == 422 and resp.json()["error"]["message"] == \
            "这不是健康码。"


def test_only_checkpoint_staff_may_check_codes(client, cast) -> None:
    code = _code(client, cast["resident"])
    assert client.post(CHECK, json={"code": code},
                       headers=cast["resident"].headers).status_code == 403


def _checks_in_log(session, person_id) -> int:  # type: ignore[no-untyped-def]
    session.expire_all()
    return int(session.scalar(select(func.count()).select_from(AuditEntry).where(
        AuditEntry.subject_person_id == person_id,
        AuditEntry.action == "health.code.check")) or 0)


def test_every_check_reaches_the_holders_access_log_green_or_red(client, session, cast,
                                                                  make_persona) -> None:
    green = cast["resident"]
    red = make_persona("public", name="赵六")
    flag(session, red.user.person_id, "red", reason="close_contact")
    session.commit()
    staff = _staff(make_persona)
    for holder, level in ((green, "green"), (red, "red")):
        resp = client.post(CHECK, json={"code": _code(client, holder)}, headers=staff)
        assert resp.status_code == 200 and resp.json()["level"] == level
        assert _checks_in_log(session, holder.user.person_id) == 1
        zh = client.get("/me/access-log", headers=holder.headers).text
        assert "查验了您的健康码" in zh
        en = client.get("/me/access-log", headers={**holder.headers, "Accept-Language": "en"})
        assert "Checked your health status code" in en.text
        api = client.get("/api/v1/me/access-log", headers=holder.headers).json()["items"]
        assert any(e["action"] == "health.code.check" for e in api)


def test_a_code_issued_before_holder_references_still_verifies(client, session, rt, cast,
                                                               make_persona) -> None:
    # Codes carried only the status reference before: a red holder is still found (and
    # logged) among the few who are not green; a green one reads green as before.
    person_id = cast["resident"].user.person_id
    flag(session, person_id, "red", reason="close_contact")
    now = int(time.time())
    signer = keyring.current_signer(session=session, vault=rt.vault)
    session.commit()
    old = encode_status(StatusClaims(
        code_id=os.urandom(16), level="green", holder="李*", id_last4="1234",
        updated_at=now - 60, issued_at=now - 60, expires_at=now + 600,
        ref=offline.status_ref(rt, person_id)), signer)
    body = client.post(CHECK, json={"code": old}, headers=_staff(make_persona)).json()
    assert body["level"] == "red" and body["changed_since"]
    assert _checks_in_log(session, person_id) == 1


def test_a_refused_code_records_nothing(client, session, rt, cast, make_persona) -> None:
    person_id = cast["resident"].user.person_id
    staff = _staff(make_persona)
    code = _code(client, cast["resident"])
    now = int(time.time())
    signer = keyring.current_signer(session=session, vault=rt.vault)
    session.commit()
    expired = encode_status(StatusClaims(
        code_id=os.urandom(16), level="green", holder="李*", id_last4="1234",
        updated_at=now - 7200, issued_at=now - 3600, expires_at=now - 1800,
        ref=offline.status_ref(rt, person_id),
        holder_ref=offline.holder_ref(rt, person_id)), signer)
    for bad in (tamper_status_code(code, s=3), expired):
        assert client.post(CHECK, json={"code": bad}, headers=staff).status_code == 422
    assert _checks_in_log(session, person_id) == 0


def test_a_holder_reference_naming_nobody_never_reads_greener_than_the_code(
        client, session, rt, cast, make_persona) -> None:
    """A validly signed code whose holder reference names no one here (a person since
    deleted; a server whose keys differ from the issuer's): the status reference is
    tried, and failing that the code's own level stands; never green by default."""
    import uuid

    now = int(time.time())
    signer = keyring.current_signer(session=session, vault=rt.vault)
    person_id = cast["resident"].user.person_id
    flag(session, person_id, "yellow", reason="risk_area_visit")
    session.commit()
    staff = _staff(make_persona)

    def code(level: str, ref: bytes) -> str:
        return encode_status(StatusClaims(
            code_id=os.urandom(16), level=level, holder="李*", id_last4="1234",
            updated_at=now - 60, issued_at=now - 60, expires_at=now + 600, ref=ref,
            holder_ref=offline.holder_ref(rt, uuid.uuid4())), signer)

    nobody = client.post(CHECK, json={"code": code("red", os.urandom(16))}, headers=staff)
    assert nobody.status_code == 200 and nobody.json()["level"] == "red", nobody.text
    # Its status reference still finds the holder (yellow now), who sees the check.
    found = client.post(CHECK, json={"code": code("red", offline.status_ref(rt, person_id))},
                        headers=staff).json()
    assert found["level"] == "yellow" and found["changed_since"]
    assert _checks_in_log(session, person_id) == 1
    # The entry went on a side lane of the chain, which still verifies whole.
    from passtrace.audit import verify as chain_verify

    lane = session.scalar(select(AuditEntry.lane).where(
        AuditEntry.subject_person_id == person_id, AuditEntry.action == "health.code.check"))
    assert lane and lane > 0
    session.expire_all()
    assert chain_verify.verify(session=session).broken is None
