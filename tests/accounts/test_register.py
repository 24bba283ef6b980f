"""Residents sign up with a validated ID number that is never stored in clear."""

from __future__ import annotations

from sqlalchemy import text

from passtrace.demo import demo_id_number


def body(**kw):  # type: ignore[no-untyped-def]
    data = {"username": "zhangsan01", "password": "long-enough-1", "name": "张三",
            "id_number": demo_id_number("520102", "19900307", "123"), "phone": "13885012345"}
    data.update(kw)
    return data


def test_sign_up_without_a_code_stores_no_identity_in_clear(client, session, rt):
    data = body()
    resp = client.post("/api/v1/accounts/register", json=data)
    assert resp.status_code == 201, resp.text
    assert resp.json()["person_id"] is None
    # No person record is made or touched, and nothing stored holds the ID number,
    # the name or the phone in clear (the rate-limit counts keep only a hash).
    assert session.scalar(text("SELECT count(*) FROM people WHERE id_hash = :h"),
                          {"h": rt.vault.lookup_hash(data["id_number"])}) == 0
    for table in ("users", "identity_attempts", "audit_entries"):
        rows = session.execute(text(f"SELECT * FROM {table}")).all()
        blob = b"".join(v if isinstance(v, bytes) else str(v).encode()
                        for row in rows for v in row)
        for secret in (data["id_number"], data["phone"], "张三"):
            assert secret.encode() not in blob, table


def test_a_bad_check_digit_is_named_and_creates_nothing(client, session):
    good = demo_id_number("520102", "19900307", "123")
    bad = good[:-1] + ("0" if good[-1] != "0" else "1")
    before = session.scalar(text("SELECT count(*) FROM users"))
    resp = client.post("/api/v1/accounts/register", json=body(id_number=bad),
                       headers={"Accept-Language": "en"})
    assert resp.status_code == 422
    assert "check digit" in resp.json()["error"]["fields"]["id_number"]
    assert session.scalar(text("SELECT count(*) FROM users")) == before


def test_one_account_per_person(client, make_persona):
    from tests.accounts.identity_helpers import compound_with_resident, resident_code, sign_up

    office = compound_with_resident(client, make_persona)
    code = resident_code(client, office)
    assert sign_up(client, "first01", office.id_number, "陈静", code=code).status_code == 201
    # Once linked, the office cannot hand out another code for that person.
    resp = client.post(f"/api/v1/communities/520102006001/residents/{office.resident_id}"
                       "/claim-code", headers=office.manager.headers)
    assert resp.status_code == 409


def test_a_bad_phone_is_named(client):
    resp = client.post("/api/v1/accounts/register", json=body(phone="12345"))
    assert resp.status_code == 422 and "phone" in resp.json()["error"]["fields"]
