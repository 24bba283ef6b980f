"""A batch's site and operator are checked once per batch, not by a foreign key per row.

registrations.site_id and operator_user_id lost their foreign keys (migration
d9a4c2e7f150, docs/checkpoint.md): these tests hold what the keys promised. A batch
for a site that does not exist, or that the guard is not on duty at, is refused and
stores nothing; a site or user that registrations name cannot be deleted; and a
deletion racing a batch upload never leaves registrations naming a site that is gone.
"""

from __future__ import annotations

import threading
import time
import uuid
from datetime import UTC, datetime

import pytest
from sqlalchemy import delete, func, select
from sqlalchemy.exc import DBAPIError

from passtrace.accounts import service as account_service
from passtrace.accounts.models import User
from passtrace.core.errors import NotFound
from passtrace.core.ids import uuid7
from passtrace.registrations import ingest
from passtrace.registrations.models import Registration
from passtrace.registrations.schemas import BatchIn
from passtrace.sites.models import Site
from tests.concurrency import committed_rt, committed_url, is_postgres, tag  # noqa: F401
from tests.conftest import PASSWORD
from tests.registrations.conftest import SITE, site_body


def _row() -> dict[str, object]:
    # A refused scan of something that is no pass: stored without any identity.
    return {"id": str(uuid7()), "lane": "1", "occurred_at": datetime.now(UTC).isoformat(),
            "direction": "in", "method": "qr", "temperature": 36.4, "decision": "deny",
            "reasons": ["not_a_pass"]}


def _batch(rows: list[dict[str, object]], site: str) -> dict[str, object]:
    return {"site": site, "device_key": "phone-9", "sent_at": datetime.now(UTC).isoformat(),
            "pending": 0, "registrations": rows}


def _stored(session, rows) -> int:
    return session.scalar(select(func.count()).select_from(Registration).where(
        Registration.id.in_([uuid.UUID(str(r["id"])) for r in rows])))


def test_a_batch_for_an_unknown_or_another_guards_site_stores_nothing(
        client, checkpoint, session):
    other = client.post("/api/v1/sites", json=site_body(code="CP-T-02", name="别处卡口"),
                        headers=checkpoint.official.headers)
    assert other.status_code == 200, other.text
    rows = [_row() for _ in range(5)]
    staff = checkpoint.staff.headers | {"Accept-Language": "zh-CN"}
    unknown = client.post("/api/v1/registrations/batch", json=_batch(rows, "NOPE"),
                          headers=staff)
    assert unknown.status_code == 404
    foreign = client.post("/api/v1/registrations/batch", json=_batch(rows, "CP-T-02"),
                          headers=staff)
    # Not the guard's site: told exactly what an unknown code is told (nothing leaks).
    assert foreign.status_code == 404
    assert foreign.json() == unknown.json()
    assert _stored(session, rows) == 0
    # The same rows at the guard's own site: every one stored, row by row.
    own = client.post("/api/v1/registrations/batch", json=_batch(rows, SITE), headers=staff)
    assert own.status_code == 200, own.text
    assert [r["status"] for r in own.json()["results"]] == ["stored"] * 5
    assert _stored(session, rows) == 5


def test_a_site_or_operator_that_registrations_name_cannot_be_deleted(client, checkpoint,
                                                                       session):
    rows = [_row() for _ in range(3)]
    resp = client.post("/api/v1/registrations/batch", json=_batch(rows, SITE),
                       headers=checkpoint.staff.headers)
    assert resp.json()["stored"] == 3
    site_id = session.scalar(select(Site.id).where(Site.code == SITE))
    for statement in (delete(Site).where(Site.id == site_id),
                      delete(User).where(User.id == checkpoint.staff.user.id)):
        nested = session.begin_nested()
        with pytest.raises(DBAPIError, match="registrations still name"):
            session.execute(statement)
        nested.rollback()
    assert _stored(session, rows) == 3
    # A site nobody registered at can go, as before: the guard is no blanket refusal.
    client.post("/api/v1/sites", json=site_body(code="CP-T-03", name="空卡口"),
                headers=checkpoint.official.headers)
    nested = session.begin_nested()
    session.execute(delete(Site).where(Site.code == "CP-T-03"))
    nested.commit()
    assert session.scalar(select(Site.id).where(Site.code == "CP-T-03")) is None


def _committed_site_and_staff(rt):
    code = f"KEY-{tag()}"
    with rt.sessions() as session:
        site = Site(id=uuid7(), code=code, name="删除竞争", kind="road_checkpoint",
                    area_code="520102006", lanes=["1"])
        session.add(site)
        user = account_service.create(session=session, rt=rt, actor=None,
                                      username=f"key-{tag()}", password=PASSWORD,
                                      display_name="值守员")
        account_service.grant(session=session, actor=None, user=user,
                              role="checkpoint_staff", scope_type="site", scope_value=code)
        session.commit()
        return site.id, code, account_service.principal_for(user)


def test_a_site_deleted_while_its_batch_is_being_stored_is_kept(committed_rt):  # noqa: F811
    """Race: the deletion comes after the batch read the site. It waits for the batch
    (the site row's KEY SHARE lock on PostgreSQL, the write lock on SQLite) and is then
    refused, because the rows it would orphan are there."""
    rt = committed_rt
    site_id, code, staff = _committed_site_and_staff(rt)
    rows = [_row() for _ in range(20)]
    stored, outcome = threading.Event(), {}

    def upload() -> None:
        with rt.sessions() as session:
            out = ingest.ingest(session=session, rt=rt, actor=staff,
                                batch=BatchIn.model_validate(_batch(rows, code)))
            outcome["stored"] = out["stored"]
            stored.set()
            time.sleep(0.5)  # the deletion is waiting meanwhile
            session.commit()

    def remove() -> None:
        stored.wait(30)
        with rt.sessions() as session:
            try:
                session.execute(delete(Site).where(Site.id == site_id))
                session.commit()
                outcome["delete"] = "deleted"
            except DBAPIError as exc:
                session.rollback()
                outcome["delete"] = str(exc.orig)

    threads = [threading.Thread(target=upload), threading.Thread(target=remove)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert outcome["stored"] == 20
    assert "registrations still name" in outcome["delete"], outcome
    with rt.sessions() as session:
        assert session.get(Site, site_id) is not None
        assert _stored(session, rows) == 20


def test_a_site_deleted_before_its_batch_is_stored_refuses_the_batch(committed_rt,  # noqa: F811
                                                                     monkeypatch):
    """Race, other order: the site is deleted (and committed) after the upload read it
    and before it stores anything. The batch finds the site gone and stores nothing."""
    rt = committed_rt
    site_id, code, staff = _committed_site_and_staff(rt)
    rows = [_row() for _ in range(20)]
    judge = ingest.judge

    def judge_then_delete(**kwargs):  # the real judgement, with the deletion meanwhile
        result = judge(**kwargs)
        deleter = threading.Thread(target=_delete_site, args=(rt, site_id))
        deleter.start()
        deleter.join(30)
        return result

    monkeypatch.setattr(ingest, "judge", judge_then_delete)
    outcome = "ok"
    with rt.sessions() as session:
        try:
            ingest.ingest(session=session, rt=rt, actor=staff,
                          batch=BatchIn.model_validate(_batch(rows, code)))
            session.commit()
        except NotFound:
            session.rollback()
            outcome = "refused"
        except DBAPIError as exc:  # SQLite: the read snapshot predates the deletion
            session.rollback()
            outcome = "busy" if "locked" in str(exc) else repr(exc)
    with rt.sessions() as session:
        assert session.get(Site, site_id) is None
        assert _stored(session, rows) == 0
    # PostgreSQL: the batch's locking read finds the site gone. SQLite: that read still
    # sees the snapshot from before the deletion, and the first write is refused (busy).
    assert outcome == "refused" if is_postgres(rt) else outcome in ("refused", "busy"), outcome


def _delete_site(rt, site_id) -> None:
    with rt.sessions() as session:
        session.execute(delete(Site).where(Site.id == site_id))
        session.commit()
