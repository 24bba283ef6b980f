"""Each ciphertext is bound to its row and column: one copied elsewhere in the database
does not decrypt (a clear 409, not a 500), and `keys rotate-pii` binds values written
before binding existed."""

from __future__ import annotations

import os

from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from sqlalchemy import select, update

from passtrace.cli import pii_keys
from passtrace.core.pii import _derive
from passtrace.people.models import Person, PersonClaim
from tests.passes.helpers import apply


def _reveal(client, persona, person_id, field="name"):  # type: ignore[no-untyped-def]
    return client.post(f"/api/v1/people/{person_id}/reveal",
                       json={"field": field, "purpose": "pass_review",
                             "reason": "核查通行证申请的身份"}, headers=persona.headers)


def test_swapping_two_peoples_names_in_the_database_makes_reveal_refuse_both(
        client, make_persona, session):
    a, b = make_persona("public", name="张三"), make_persona("public", name="李四")
    pa = apply(client, a.headers, areas=["520102006"])["holder"]["person_id"]
    pb = apply(client, b.headers, areas=["520102006"])["holder"]["person_id"]
    official = make_persona("official", "area", "520102")
    assert _reveal(client, official, pa).json()["value"] == "张三"

    # Someone with write access to the database swaps the two ciphertexts.
    rows = dict(session.execute(select(Person.id, Person.name_enc)
                                .where(Person.id.in_([a.user.person_id, b.user.person_id]))).all())
    session.execute(update(Person).where(Person.id == a.user.person_id)
                    .values(name_enc=rows[b.user.person_id]))
    session.execute(update(Person).where(Person.id == b.user.person_id)
                    .values(name_enc=rows[a.user.person_id]))
    # And copies a's phone ciphertext into a's name column.
    phone = session.scalar(select(Person.phone_enc).where(Person.id == a.user.person_id))
    session.commit()

    for pid in (pa, pb):
        resp = _reveal(client, official, pid)
        assert resp.status_code == 409, resp.text
        assert "不属于这条记录" in resp.json()["error"]["message"]  # says why, in Chinese
    session.execute(update(Person).where(Person.id == b.user.person_id).values(name_enc=phone))
    session.commit()
    assert _reveal(client, official, pb).status_code == 409
    # The untouched field still reads; nothing refused was logged as viewed.
    assert _reveal(client, official, pa, "id_number").status_code == 200
    log = client.get("/api/v1/me/access-log", headers=b.headers).json()["items"]
    assert [e["detail"].get("field") for e in log if e["action"] == "person.reveal"] == []


def _unbound(secret: str, kid: str, value: str) -> bytes:
    """A value as the previous release wrote it: format v2, no associated data."""
    nonce = os.urandom(12)
    return (b"\x02" + bytes.fromhex(kid) + nonce
            + AESGCM(_derive(secret, b"encryption")).encrypt(nonce, value.encode(), None))


def test_rotate_pii_binds_values_written_before_binding(rt, client, make_persona, session):
    holder = make_persona("public", name="王五")
    pid = apply(client, holder.headers, areas=["520102006"])["holder"]["person_id"]
    secret, kid = rt.settings.pii_encryption_key, rt.vault.current_kid
    old = {"name_enc": _unbound(secret, kid, "王五"), "phone_enc": _unbound(secret, kid,
                                                                          "13800000000")}
    session.execute(update(Person).where(Person.id == holder.user.person_id).values(**old))
    session.commit()
    official = make_persona("official", "area", "520102")
    assert _reveal(client, official, pid).json()["value"] == "王五"  # old rows keep working

    report = pii_keys.rotate(session.connection(), rt.vault)
    assert report.rewritten["people.name_enc"] >= 1
    assert report.rewritten["people.phone_enc"] >= 1
    session.commit()
    session.expire_all()
    person = session.get(Person, holder.user.person_id)
    assert person.name_enc[:1] == b"\x03" and rt.vault.is_current(person.name_enc)
    assert _reveal(client, official, pid).json()["value"] == "王五"
    assert _reveal(client, official, pid, "phone").json()["value"] == "13800000000"
    # Bound now: copying it to another person no longer works.
    other = make_persona("public", name="赵六")
    other_pid = apply(client, other.headers, areas=["520102006"])["holder"]["person_id"]
    session.execute(update(Person).where(Person.id == other.user.person_id)
                    .values(name_enc=person.name_enc))
    session.commit()
    assert _reveal(client, official, other_pid).status_code == 409
    assert pii_keys.rotate(session.connection(), rt.vault).rewritten["people.name_enc"] == 0


def test_every_encrypted_table_says_what_binds_it():
    tables = {t.name for t, _ in pii_keys.encrypted_columns()}
    assert {"people", "person_claims", "visits", "deliveries", "resumption_applications",
            "signing_keys"} <= tables
    for table, _ in pii_keys.encrypted_columns():
        model = pii_keys.bound_model(table)
        assert all(c in table.c for c in model.PII_BIND)
    assert PersonClaim.PII_BIND == ("person_id", "source_kind", "source_id")
