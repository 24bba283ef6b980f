"""A checkpoint verifies a person's status code online: the status now wins over an older
code; a tampered, expired or foreign code is refused with a translated message."""

from __future__ import annotations

import base64
import os
import time

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
