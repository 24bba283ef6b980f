"""The signed pass text is a bearer credential: kept encrypted, shown to its holder only.

A database dump holds no "PT1:" text; the holder's QR still verifies; no approver's
answer (API or page, one pass or many) carries it; `keys rotate-pii` moves it to a new
key; the migration encrypts the texts stored in clear before (both databases).
"""

from __future__ import annotations

import tempfile
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, inspect, text
from sqlalchemy.orm import Session

from passtrace.cli import pii_keys
from passtrace.codec import decode_pass
from passtrace.codec.qr import decode_qr_image
from passtrace.core import migrate
from passtrace.core.db import make_engine
from passtrace.core.pii import NotThisRecord, PiiVault
from passtrace.core.runtime import Runtime
from passtrace.passes import keyring
from passtrace.passes.models import Pass
from passtrace.passes.service import pass_text
from tests import conftest as shared
from tests.conftest import PG_ADMIN_URL, PG_DB, skip_or_fail
from tests.passes.helpers import apply

CLEAR = "PT1:"
BEFORE = "c5e1a7f3b914"  # the revision before pass texts were encrypted


def _dump(session: Session) -> str:
    """Every value of every pass row, as a dump would write it (bytes as Latin-1)."""
    out = []
    for row in session.execute(text("SELECT * FROM passes")):
        for value in row:
            if isinstance(value, bytes | memoryview):
                out.append(bytes(value).decode("latin-1"))
            else:
                out.append(str(value))
    return "\n".join(out)


def test_the_database_holds_no_pass_text_and_the_holder_still_scans(client, make_persona,
                                                                    session):
    resident = make_persona("public", name="张三")
    official = make_persona("official", "area", "520102")
    p = apply(client, resident.headers)
    approved = client.post(f"/api/v1/passes/{p['id']}/approve", json={"reason": "齐全"},
                           headers=official.headers)
    assert approved.status_code == 200, approved.text
    assert approved.json()["status"] == "approved" and CLEAR not in approved.text
    session.expire_all()
    dump = _dump(session)
    assert p["id"].replace("-", "") in dump.replace("-", "")  # the row is there
    assert CLEAR not in dump
    # The holder's QR decodes to a pass that verifies, for this pass.
    png = client.get(f"/api/v1/passes/{p['id']}/qr.png", headers=resident.headers)
    assert png.status_code == 200
    (scanned,) = decode_qr_image(png.content)
    claims = decode_pass(scanned, keyring.trust_store(session=session), now=int(time.time()))
    assert claims.pass_id == p["id"] and claims.holder == "张*"
    mine = client.get(f"/api/v1/passes/{p['id']}", headers=resident.headers).json()
    assert mine["token"] == scanned
    page = client.get(f"/passes/{p['id']}/print", headers=resident.headers)
    assert page.status_code == 200
    # The official sees the pass, never its text or its QR.
    seen = client.get(f"/api/v1/passes/{p['id']}", headers=official.headers)
    assert seen.json()["token"] is None and CLEAR not in seen.text
    assert client.get(f"/api/v1/passes/{p['id']}/qr.png",
                      headers=official.headers).status_code == 404
    assert CLEAR not in client.get(f"/passes/{p['id']}", headers=official.headers).text


def test_no_approval_answers_with_the_pass_text(client, make_persona, session):
    resident = make_persona("public")
    official = make_persona("official", "area", "520102")
    ids = [apply(client, resident.headers)["id"] for _ in range(5)]
    many = client.post("/api/v1/passes/approve-many", json={"pass_ids": ids[:2]},
                       headers=official.headers)
    assert many.status_code == 200 and sorted(many.json()["approved"]) == sorted(ids[:2])
    assert CLEAR not in many.text
    queue = client.post("/passes/review/approve", headers=official.headers,
                        data={"pass_ids": [ids[2]], "reason": "批量核准"})
    assert queue.status_code == 200 and 'id="bulk-result"' in queue.text
    assert CLEAR not in queue.text
    row = client.post(f"/passes/{ids[3]}/approve",
                      headers={**official.headers, "HX-Request": "true"})
    assert row.status_code == 200 and 'data-status="approved"' in row.text
    assert CLEAR not in row.text
    detail = client.post(f"/passes/{ids[4]}/approve", headers=official.headers,
                         data={"reason": ""})  # followed to the official's pass page
    assert detail.status_code == 200 and CLEAR not in detail.text
    # All five were signed, and each is its holder's to show.
    listed = client.get("/api/v1/passes/mine", headers=resident.headers).json()["items"]
    assert sorted(i["id"] for i in listed if (i["token"] or "").startswith(CLEAR)) == sorted(ids)
    session.expire_all()
    assert CLEAR not in _dump(session)


def test_a_pass_text_copied_to_another_pass_does_not_read(client, make_persona, session, rt):
    resident = make_persona("public")
    official = make_persona("official", "area", "520102")
    first, second = (apply(client, resident.headers)["id"] for _ in range(2))
    client.post("/api/v1/passes/approve-many", json={"pass_ids": [first, second]},
                headers=official.headers)
    a, b = session.get(Pass, uuid.UUID(first)), session.get(Pass, uuid.UUID(second))
    assert pass_text(vault=rt.vault, p=a) != pass_text(vault=rt.vault, p=b)
    b.token_enc = a.token_enc  # someone with write access swaps the texts
    with pytest.raises(NotThisRecord):
        pass_text(vault=rt.vault, p=b)


def test_rotating_the_personal_data_key_moves_the_pass_texts(client, make_persona, session,
                                                             rt):
    resident = make_persona("public")
    official = make_persona("official", "area", "520102")
    pid = apply(client, resident.headers)["id"]
    client.post(f"/api/v1/passes/{pid}/approve", json={}, headers=official.headers)
    before = pass_text(vault=rt.vault, p=session.get(Pass, uuid.UUID(pid)))
    assert ("passes", "token_enc") in {(t.name, c.name) for t, c in pii_keys.encrypted_columns()}
    old, lookup = rt.settings.pii_encryption_key, rt.settings.pii_lookup_key
    new_vault = PiiVault("n" * 40, hash_secret=lookup, previous=[old], wrap_secret="w" * 40)
    report = pii_keys.rotate(session.connection(), new_vault)
    assert report.rewritten["passes.token_enc"] >= 1
    session.expire_all()
    only_new = PiiVault("n" * 40, hash_secret=lookup, wrap_secret="w" * 40)
    assert pass_text(vault=only_new, p=session.get(Pass, uuid.UUID(pid))) == before


@pytest.fixture(params=["sqlite", "postgresql"])
def fresh_url(request: pytest.FixtureRequest) -> Iterator[str]:
    """The URL of an empty database of its own (the migration goes down and up)."""
    if request.param == "sqlite":
        yield f"sqlite:///{Path(tempfile.mkdtemp(prefix='passtrace-trust-')) / 't.db'}"
        return
    name = f"{PG_DB}_trust{uuid.uuid4().hex[:8]}"  # carries the run's pid: stale ones go
    admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(text(f"CREATE DATABASE {name}"))
    except Exception as exc:  # noqa: BLE001 - any connection failure means "no server"
        admin.dispose()
        skip_or_fail(f"PostgreSQL not reachable at {PG_ADMIN_URL}: {exc}")
    yield PG_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"
    with admin.connect() as conn:
        conn.execute(text(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
    admin.dispose()


def _signed_pass(rt: Runtime) -> tuple[uuid.UUID, str]:
    from datetime import timedelta

    from passtrace.accounts import service as account_service
    from passtrace.core.clock import utcnow
    from passtrace.passes import service as pass_service
    from passtrace.people import service as people_service
    from tests.conftest import next_id_number

    with rt.sessions() as session:
        person = people_service.register(session=session, vault=rt.vault, actor=None,
                                         id_number=next_id_number(), name="李四",
                                         phone="13800000000")
        user = account_service.create(session=session, rt=rt, actor=None,
                                      username=f"u{uuid.uuid4().hex[:8]}",
                                      password="correct horse battery staple",
                                      display_name="李四", person_id=person.id)
        now = utcnow()
        p = Pass(person_id=person.id, applicant_user_id=user.id, purpose="commute",
                 valid_from=now, valid_until=now + timedelta(days=3), areas=["520102006"],
                 status="approved")
        session.add(p)
        session.flush()
        signed = pass_service.sign(session=session, rt=rt, p=p)
        session.commit()
        return p.id, signed


def test_the_migration_encrypts_the_texts_stored_in_clear(fresh_url):
    engine = make_engine(fresh_url)
    rt = Runtime.build(shared.test_settings(fresh_url), engine=engine)
    try:
        migrate.upgrade(engine, vault=rt.vault)
        pass_id, signed = _signed_pass(rt)
        # Back to the release that kept the text in clear: the row holds it so.
        migrate.downgrade(engine, BEFORE, vault=rt.vault)
        with engine.connect() as conn:
            assert conn.execute(text("SELECT token FROM passes")).scalars().all() == [signed]
        migrate.upgrade(engine, vault=rt.vault)
        assert "token" not in {c["name"] for c in inspect(engine).get_columns("passes")}
        with Session(engine) as session:
            assert CLEAR not in _dump(session)
            assert pass_text(vault=rt.vault, p=session.get(Pass, pass_id)) == signed
    finally:
        engine.dispose()
