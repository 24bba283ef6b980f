"""The tracing API and pages: personas, paging, tasks, export audit (both databases)."""

from __future__ import annotations

import csv
import io
from datetime import timedelta

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from passtrace.audit import access_log
from passtrace.core.runtime import Runtime
from passtrace.tracing.models import Contact, TracingTask
from tests.tracing.world import T0, case, person, reg, site

M = timedelta(minutes=1)


def _world(rt: Runtime, session: Session):  # type: ignore[no-untyped-def]
    s = site(session, "road_checkpoint", "520102")
    p = person(session, rt, "病例")
    near = person(session, rt, "接触者")
    c = case(session, p, area="520102")
    reg(session, s, p.id_hash, T0)
    reg(session, s, near.id_hash, T0 + 10 * M)
    reg(session, s, "no-record", T0 + 20 * M)
    session.commit()
    return c, near


def test_personas_on_every_route(rt: Runtime, session: Session, client: TestClient,
                                 make_persona) -> None:  # type: ignore[no-untyped-def]
    c, _ = _world(rt, session)
    mine = make_persona("official", "area", "520102")
    other = make_persona("official", "area", "520103")
    resident = make_persona("public")
    routes = [("post", f"/api/v1/cases/{c.id}/contacts/run", {}),
              ("get", f"/api/v1/cases/{c.id}/contacts", None),
              ("post", f"/api/v1/cases/{c.id}/contacts/export", {})]
    for method, url, body in routes:
        kw = {"json": body} if body is not None else {}
        assert getattr(client, method)(url, headers=other.headers, **kw).status_code == 404
        assert getattr(client, method)(url, headers=resident.headers, **kw).status_code == 403
        assert getattr(client, method)(url, headers=mine.headers, **kw).status_code == 200, url
    assert client.get("/api/v1/tracing/tasks", headers=resident.headers).status_code == 403
    for url in (f"/cases/{c.id}/contacts", f"/cases/{c.id}/chain"):
        assert client.get(url, headers=other.headers).status_code == 404
        assert client.get(url, headers=resident.headers).status_code == 403
        assert client.get(url, headers=mine.headers).status_code == 200


def test_run_lists_contacts_with_tasks_and_the_fragment(
        rt: Runtime, session: Session, client: TestClient, make_persona) -> None:  # type: ignore[no-untyped-def]
    c, _ = _world(rt, session)
    mine = make_persona("official", "area", "520102")
    other = make_persona("official", "area", "520103")
    body = client.post(f"/api/v1/cases/{c.id}/contacts/run", json={},
                       headers=mine.headers).json()
    assert len(body["items"]) == 2 and body["tasks"] == 2 and body["reached_within_24h"] == 0
    item = next(i for i in body["items"] if i["person"])
    assert item["kind"] == "close" and item["evidence"][0]["gap_minutes"] == 10
    assert item["task"]["status"] == "not_reached"
    assert "id_number" not in item
    page = client.get(f"/api/v1/cases/{c.id}/contacts?limit=1", headers=mine.headers).json()
    assert len(page["items"]) == 1 and page["next"]
    frag = client.get(f"/cases/{c.id}/contacts", headers={**mine.headers, "HX-Request": "true"})
    assert "<html" not in frag.text and 'id="contact-table"' in frag.text
    full = client.get(f"/cases/{c.id}/contacts", headers=mine.headers)
    assert "<html" in full.text and 'id="contact-table"' in full.text
    # The official's task list: another area's official sees none of it.
    tasks = client.get("/api/v1/tracing/tasks", headers=mine.headers).json()["items"]
    assert len(tasks) == 2
    assert client.get("/api/v1/tracing/tasks", headers=other.headers).json()["items"] == []
    task_id = tasks[0]["id"]
    assert client.patch(f"/api/v1/tracing/tasks/{task_id}", json={"status": "reached"},
                        headers=other.headers).status_code == 404
    done = client.patch(f"/api/v1/tracing/tasks/{task_id}",
                        json={"status": "reached", "note": "电话已联系"}, headers=mine.headers)
    assert done.status_code == 200 and done.json()["reached_at"]
    assert "电话已联系" in done.json()["notes"]
    bad = client.patch(f"/api/v1/tracing/tasks/{task_id}", json={"status": "gone"},
                       headers=mine.headers)
    assert bad.status_code == 422
    share = client.get(f"/api/v1/cases/{c.id}/contacts", headers=mine.headers).json()
    assert share["reached_within_24h"] == 1
    # Overdue: the other task, a day later.
    session.execute(TracingTask.__table__.update().values(due_at=T0))
    session.commit()
    late = client.get("/api/v1/tracing/tasks?overdue=true", headers=mine.headers).json()
    assert [t["status"] for t in late["items"]] == ["not_reached"]
    assert client.get("/tracing/tasks?overdue=true", headers=mine.headers).status_code == 200


def test_export_masked_by_default_revealed_with_a_reason_and_in_the_access_log(
        rt: Runtime, session: Session, client: TestClient, make_persona) -> None:  # type: ignore[no-untyped-def]
    c, near = _world(rt, session)
    mine = make_persona("official", "area", "520102")
    client.post(f"/api/v1/cases/{c.id}/contacts/run", json={}, headers=mine.headers)
    masked = client.post(f"/api/v1/cases/{c.id}/contacts/export", json={},
                         headers=mine.headers)
    rows = list(csv.reader(io.StringIO(masked.content.decode("utf-8-sig"))))
    assert "id_number" not in rows[0] and len(rows) == 3
    no_reason = client.post(f"/api/v1/cases/{c.id}/contacts/export",
                            json={"reveal": {"purpose": "contact_tracing", "reason": ""}},
                            headers=mine.headers)
    assert no_reason.status_code == 422
    revealed = client.post(
        f"/api/v1/cases/{c.id}/contacts/export",
        json={"format": "csv", "reveal": {"purpose": "contact_tracing",
                                          "reason": "流调需要联系密接人员"}},
        headers=mine.headers)
    assert revealed.status_code == 200
    rows = list(csv.reader(io.StringIO(revealed.content.decode("utf-8-sig"))))
    header = rows[0]
    assert header[-2:] == ["id_number", "phone"]
    row = next(r for r in rows[1:] if r[0])
    assert len(row[-2]) == 18 and row[-1] == "13800000000"
    session.expire_all()
    entries = access_log.access_page(session=session, person_id=near.id).entries
    exports = [e for e in entries if e.action == "contact.export"]
    assert exports and exports[0].detail["revealed"] is True
    assert exports[0].reason == "流调需要联系密接人员"
    xlsx = client.post(f"/api/v1/cases/{c.id}/contacts/export", json={"format": "xlsx"},
                       headers=mine.headers)
    assert xlsx.content[:2] == b"PK"


def test_the_task_page_updates_a_status_and_refuses_a_bad_one(
        rt: Runtime, session: Session, client: TestClient, make_persona) -> None:  # type: ignore[no-untyped-def]
    c, _ = _world(rt, session)
    mine = make_persona("official", "area", "520102")
    resident = make_persona("public")
    client.post(f"/api/v1/cases/{c.id}/contacts/run", json={}, headers=mine.headers)
    assert client.get("/tracing/tasks", headers=resident.headers).status_code == 403
    page = client.get("/tracing/tasks", headers=mine.headers)
    assert page.status_code == 200 and 'id="task-table"' in page.text
    task_id = client.get("/api/v1/tracing/tasks", headers=mine.headers).json()["items"][0]["id"]
    bad = client.post(f"/tracing/tasks/{task_id}", data={"status": "gone", "note": "x"},
                      headers=mine.headers, follow_redirects=False)
    assert bad.status_code == 422
    ok = client.post(f"/tracing/tasks/{task_id}", data={"status": "quarantined",
                                                        "note": "已居家隔离"},
                     headers=mine.headers, follow_redirects=False)
    assert ok.status_code == 303
    task = client.get("/api/v1/tracing/tasks", headers=mine.headers).json()["items"]
    assert any(t["status"] == "quarantined" and "已居家隔离" in t["notes"] for t in task)


def test_the_contacts_page_exports_revealed_with_a_reason_and_finds_secondary(
        rt: Runtime, session: Session, client: TestClient, make_persona) -> None:  # type: ignore[no-untyped-def]
    c, near = _world(rt, session)
    mine = make_persona("official", "area", "520102")
    run = client.post(f"/cases/{c.id}/contacts/run", data={"depth": "2"}, headers=mine.headers,
                      follow_redirects=False)
    assert run.status_code == 303
    page = client.get(f"/cases/{c.id}/contacts", headers=mine.headers)
    assert 'id="export-contacts"' in page.text
    short = client.post(f"/cases/{c.id}/contacts/export",
                        data={"format": "csv", "reveal": "1", "purpose": "contact_tracing",
                              "reason": "短"}, headers=mine.headers)
    assert short.status_code == 422
    done = client.post(f"/cases/{c.id}/contacts/export",
                       data={"format": "csv", "reveal": "1", "purpose": "contact_tracing",
                             "reason": "流调需要联系密接人员"}, headers=mine.headers)
    assert done.status_code == 200 and "13800000000" in done.content.decode("utf-8-sig")
    session.expire_all()
    entries = access_log.access_page(session=session, person_id=near.id).entries
    assert entries[0].action == "contact.export" and entries[0].detail["revealed"] is True


def test_a_task_status_change_is_audited_against_the_contact(
        rt: Runtime, session: Session, client: TestClient, make_persona) -> None:  # type: ignore[no-untyped-def]
    """Marking someone quarantined or tested is a change to what is recorded about them:
    it is audited, and the person sees who did it in "who viewed my data"."""
    from sqlalchemy import select

    from passtrace.audit.models import AuditEntry

    c, near = _world(rt, session)
    mine = make_persona("official", "area", "520102")
    client.post(f"/api/v1/cases/{c.id}/contacts/run", json={}, headers=mine.headers)
    task = session.scalar(select(TracingTask).join(
        Contact, Contact.id == TracingTask.contact_id).where(Contact.person_id == near.id))
    assert task is not None
    resp = client.patch(f"/api/v1/tracing/tasks/{task.id}", headers=mine.headers,
                        json={"status": "quarantined", "note": "已居家隔离"})
    assert resp.status_code == 200, resp.text
    entry = session.scalar(select(AuditEntry).where(
        AuditEntry.action == "contact.task", AuditEntry.subject_person_id == near.id))
    assert entry is not None and entry.actor_user_id == mine.user.id
    assert entry.detail["from"] == "not_reached" and entry.detail["to"] == "quarantined"
    assert "已居家隔离" not in str(entry.detail)  # the note stays in the task, not the log
    # Saving it again unchanged (same status, no note) changes nothing about the person:
    # no second entry in their log.
    again = client.patch(f"/api/v1/tracing/tasks/{task.id}", headers=mine.headers,
                         json={"status": "quarantined"})
    assert again.status_code == 200, again.text
    assert len(session.scalars(select(AuditEntry).where(
        AuditEntry.action == "contact.task", AuditEntry.subject_person_id == near.id)).all()) == 1
