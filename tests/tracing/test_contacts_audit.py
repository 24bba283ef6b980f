"""A contacts run is audited with one entry; the listing reaches each listed person's
access log (one entry each, written in one statement), and the chain still verifies."""

from __future__ import annotations

from datetime import timedelta

from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from passtrace.audit import access_log
from passtrace.audit import verify as audit_verify
from passtrace.audit.models import AuditEntry
from passtrace.core.runtime import Runtime
from tests.tracing.world import T0, case, person, reg, site

M = timedelta(minutes=1)


def test_a_run_writes_one_search_entry_and_one_view_entry_per_listed_person(
        rt: Runtime, session: Session, client: TestClient, make_persona) -> None:  # type: ignore[no-untyped-def]
    s = site(session, "road_checkpoint", "520102")
    p = person(session, rt, "病例")
    near = [person(session, rt, f"接触者{i}") for i in range(3)]
    c = case(session, p, area="520102")
    reg(session, s, p.id_hash, T0)
    for i, n in enumerate(near):
        reg(session, s, n.id_hash, T0 + (i + 1) * M)
    reg(session, s, "no-record", T0 + 20 * M)
    session.commit()
    mine = make_persona("official", "area", "520102")
    for _ in range(2):  # the second run finds nothing new: still one entry per run
        body = client.post(f"/api/v1/cases/{c.id}/contacts/run", json={},
                           headers=mine.headers).json()
        assert len(body["items"]) == 4 and body["tasks"] == 4
    session.expire_all()
    entries = list(session.scalars(select(AuditEntry).where(
        AuditEntry.resource_id == str(c.id)).order_by(AuditEntry.seq)))
    searches = [e for e in entries if e.action == "contact.search"]
    views = [e for e in entries if e.action == "contact.view"]
    assert len(searches) == 2
    assert searches[0].detail["contacts"] == 4 and searches[0].detail["tasks_made"] == 4
    assert searches[1].detail["tasks_made"] == 0
    # Each listing: one entry per listed person with a record (not the unknown visitor).
    assert sorted(str(e.subject_person_id) for e in views) == sorted(
        [str(n.id) for n in near] * 2)
    for n in near:
        log = access_log.access_page(session=session, person_id=n.id).entries
        assert log and log[0].action == "contact.view"
    assert audit_verify.verify(session=session).broken is None
