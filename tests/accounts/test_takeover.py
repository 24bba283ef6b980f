"""Signing up with someone's ID number no longer takes over their person record."""

from __future__ import annotations

import uuid
from datetime import timedelta

from sqlalchemy import select, update

from passtrace.accounts.models import ClaimCode, User
from passtrace.audit.models import AuditEntry
from passtrace.core.clock import utcnow
from passtrace.demo import demo_id_number
from passtrace.notices.models import Notice
from passtrace.people.models import Person
from tests.accounts.identity_helpers import (
    CODE,
    compound_with_resident,
    login,
    resident_code,
    sign_up,
)


def test_an_id_number_alone_binds_nothing_and_the_real_person_binds_with_a_code(
        client, make_persona, session, rt):
    office = compound_with_resident(client, make_persona)
    # The attacker knows the ID number and types any name.
    resp = sign_up(client, "mallory01", office.id_number, "随便")
    assert resp.status_code == 201, resp.text
    assert resp.json()["person_id"] is None
    assert "claim code" in resp.json()["bind_hint"]
    attacker = login(client, "mallory01")
    assert client.get("/api/v1/me/person", headers=attacker).status_code == 404
    reveal = client.post(f"/api/v1/people/{office.person_id}/reveal", headers=attacker,
                         json={"field": "name", "purpose": "other",
                               "reason": "just looking at it"})
    assert reveal.status_code in (403, 404)
    assert "陈静" not in reveal.text
    guessed = client.post("/api/v1/me/bind", headers=attacker, json={
        "name": "陈静", "id_number": office.id_number, "claim_code": "ABCDE-FGHJK"})
    assert guessed.status_code == 422 and guessed.json()["error"]["code"] == "binding_refused"

    # The resident collects a code at the compound office and signs up with it.
    code = resident_code(client, office)
    resp = sign_up(client, "chenjing", office.id_number, "陈 静", code=code)
    assert resp.status_code == 201, resp.text
    assert resp.json()["person_id"] == office.person_id and resp.json()["bind_hint"] is None
    me = client.get("/api/v1/me/person", headers=login(client, "chenjing")).json()
    assert me["name"] == "陈*"
    # The code was used once: the attacker holding it (a photo of the slip) gets nowhere.
    again = client.post("/api/v1/me/bind", headers=attacker, json={
        "name": "陈静", "id_number": office.id_number, "claim_code": code})
    assert again.status_code == 422
    person = session.get(Person, uuid.UUID(office.person_id))
    assert person.identity_proofed_at is not None
    assert session.scalar(select(AuditEntry.id).where(
        AuditEntry.action == "account.bind",
        AuditEntry.subject_person_id == person.id)) is not None


def test_sign_up_answers_the_same_for_unknown_known_and_taken_id_numbers(
        client, make_persona):
    office = compound_with_resident(client, make_persona)
    code = resident_code(client, office)
    assert sign_up(client, "owner01", office.id_number, "陈静", code=code).status_code == 201
    unknown = demo_id_number("520103", "19900101", "777")
    answers = []
    for i, id_number in enumerate((unknown, office.id_number)):
        resp = sign_up(client, f"probe0{i}", id_number, "某某")
        body = resp.json()
        answers.append((resp.status_code, {k: v for k, v in body.items()
                                           if k not in ("id", "username", "display_name")}))
    assert answers[0] == answers[1]
    assert answers[0][0] == 201 and answers[0][1]["person_id"] is None


def test_the_typed_name_must_be_the_one_the_office_holds(client, make_persona):
    office = compound_with_resident(client, make_persona)
    code = resident_code(client, office)
    wrong = sign_up(client, "wrongname", office.id_number, "陈晶", code=code)
    assert wrong.status_code == 422 and wrong.json()["error"]["code"] == "binding_refused"
    # Nothing was created, and the code still works for the right name.
    assert client.post("/api/v1/auth/token", json={"username": "wrongname",
                                                    "password": "long-enough-1"}
                       ).status_code == 401
    assert sign_up(client, "rightname", office.id_number, "陈静", code=code).status_code == 201


def test_an_expired_code_is_refused_and_a_new_one_replaces_the_old(client, make_persona,
                                                                   session):
    office = compound_with_resident(client, make_persona)
    first = resident_code(client, office)
    second = resident_code(client, office)
    assert sign_up(client, "oldcode", office.id_number, "陈静", code=first).status_code == 422
    session.execute(update(ClaimCode).values(expires_at=utcnow() - timedelta(minutes=1)))
    session.commit()
    assert sign_up(client, "expired", office.id_number, "陈静", code=second).status_code == 422


def test_only_the_compounds_office_issues_codes_for_its_residents(client, make_persona):
    office = compound_with_resident(client, make_persona)
    other = make_persona("community_manager", "community", "520102006002")
    hr = make_persona("enterprise_admin", "enterprise", "91520102MA6J5GQX4X")
    resident = make_persona("public")
    for persona in (other, hr, resident):
        resp = client.post(
            f"/api/v1/communities/{CODE}/residents/{office.resident_id}/claim-code",
            headers=persona.headers)
        assert resp.status_code in (403, 404), resp.text


def test_attempts_are_limited_per_id_number_with_the_same_answer_for_any_number(
        client, make_persona):
    office = compound_with_resident(client, make_persona)
    unknown = demo_id_number("520103", "19900101", "778")
    for id_number in (office.id_number, unknown):
        user = f"try{id_number[-4:]}"
        assert sign_up(client, user, id_number, "某某").status_code == 201
        headers = login(client, user)
        codes = []
        for _ in range(5):
            resp = client.post("/api/v1/me/bind", headers={**headers, "Accept-Language": "en"},
                               json={"name": "某某", "id_number": id_number,
                                     "claim_code": "ABCDE-FGHJK"})
            codes.append(resp.status_code)
        # Sign-up counted once, four bind attempts more: the fifth bind is the sixth try.
        assert codes == [422, 422, 422, 422, 429], (id_number, codes)
        assert "wait an hour" in resp.json()["error"]["message"]


def test_attempts_are_limited_per_client_address(client):
    codes = [sign_up(client, f"bulk{i:02d}", demo_id_number("520103", "19900101", f"{i:03d}"),
                     "某某").status_code for i in range(21)]
    assert codes[:20] == [201] * 20 and codes[20] == 429


def test_an_official_unbinds_a_wrongly_bound_account_and_it_is_told(
        client, make_persona, session):
    office = compound_with_resident(client, make_persona)
    code = resident_code(client, office)
    # A relative took the code and bound their own account by mistake.
    assert sign_up(client, "relative", office.id_number, "陈静", code=code).status_code == 201
    far = make_persona("official", "area", "520103")
    denied = client.post(f"/api/v1/people/{office.person_id}/unbind", headers=far.headers,
                         json={"reason": "wrongly bound"})
    assert denied.status_code == 404
    short = client.post(f"/api/v1/people/{office.person_id}/unbind",
                        headers=office.official.headers, json={"reason": "x"})
    assert short.status_code == 422
    resp = client.post(f"/api/v1/people/{office.person_id}/unbind",
                       headers=office.official.headers,
                       json={"reason": "本人到场核实，账户非本人"})
    assert resp.status_code == 204, resp.text
    user = session.scalar(select(User).where(User.username == "relative"))
    session.refresh(user)
    assert user.person_id is None
    notice = session.scalar(select(Notice).where(Notice.user_id == user.id))
    assert notice is not None and notice.kind == "account.unbind"
    entry = session.scalar(select(AuditEntry).where(AuditEntry.action == "account.unbind"))
    assert entry.subject_person_id == uuid.UUID(office.person_id)
    assert entry.reason == "本人到场核实，账户非本人"
    # The person collects a new code and binds their own account.
    fresh = resident_code(client, office)
    resp = sign_up(client, "realchen", office.id_number, "陈静", code=fresh)
    assert resp.status_code == 201 and resp.json()["person_id"] == office.person_id


def test_attempt_counts_older_than_a_day_are_cleared(session):
    from passtrace.accounts import attempts
    from passtrace.accounts.models import IdentityAttempt

    old = utcnow() - timedelta(days=2)
    attempts.bump(session=session, key="ip:old", now=old)
    attempts.bump(session=session, key="ip:new")
    assert session.scalar(select(IdentityAttempt.id).where(
        IdentityAttempt.window_start < utcnow() - timedelta(days=1))) is None
