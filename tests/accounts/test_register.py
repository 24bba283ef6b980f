"""Residents sign up with a validated ID number that is never stored in clear."""

from __future__ import annotations

import uuid

from sqlalchemy import text

from passtrace.demo import demo_id_number
from passtrace.people.models import Person


def body(**kw):  # type: ignore[no-untyped-def]
    data = {"username": "zhangsan01", "password": "long-enough-1", "name": "张三",
            "id_number": demo_id_number("520102", "19900307", "123"), "phone": "13885012345"}
    data.update(kw)
    return data


def test_it_registers_and_stores_the_id_number_only_hashed_and_encrypted(client, session):
    data = body()
    resp = client.post("/api/v1/accounts/register", json=data)
    assert resp.status_code == 201, resp.text
    person = session.get(Person, uuid.UUID(resp.json()["person_id"]))
    assert person.id_masked == data["id_number"][:6] + "********" + data["id_number"][-4:]
    assert person.name_masked == "张*"
    # Nothing in the row holds the ID number, the name or the phone in clear.
    row = session.execute(text("SELECT * FROM people WHERE id_hash = :h"),
                          {"h": person.id_hash}).one()
    blob = b"".join(v if isinstance(v, bytes) else str(v).encode() for v in row)
    for secret in (data["id_number"], data["phone"], "张三"):
        assert secret.encode() not in blob


def test_a_bad_check_digit_is_named_and_creates_nothing(client, session):
    good = demo_id_number("520102", "19900307", "123")
    bad = good[:-1] + ("0" if good[-1] != "0" else "1")
    before = session.scalar(text("SELECT count(*) FROM users"))
    resp = client.post("/api/v1/accounts/register", json=body(id_number=bad),
                       headers={"Accept-Language": "en"})
    assert resp.status_code == 422
    assert "check digit" in resp.json()["error"]["fields"]["id_number"]
    assert session.scalar(text("SELECT count(*) FROM users")) == before


def test_one_account_per_id_number(client):
    assert client.post("/api/v1/accounts/register", json=body()).status_code == 201
    again = client.post("/api/v1/accounts/register", json=body(username="someone-else"))
    assert again.status_code == 409


def test_a_bad_phone_is_named(client):
    resp = client.post("/api/v1/accounts/register", json=body(phone="12345"))
    assert resp.status_code == 422 and "phone" in resp.json()["error"]["fields"]
