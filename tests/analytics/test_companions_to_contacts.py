"""A companions run's result into case contacts (issue 14): each listed case gets the
companions found with its own person, merged with what the tracing search found, never
twice; unknown hashes are counted, not invented; close contacts get tracing tasks; the
list then goes through the tracing export's reveal, audited as coming from the run.

The lake is exported from the test database (as `passtrace lake export` does) and the run
is run by the job runner, on both databases.
"""

from __future__ import annotations

import csv
import io
import uuid
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from passtrace.analytics import flows
from passtrace.analytics import jobs as analytics_jobs
from passtrace.analytics import service as analytics_service
from passtrace.analytics.lake.export import export
from passtrace.analytics.lake.source import Source
from passtrace.analytics.models import AnalyticsRun
from passtrace.audit import access_log
from passtrace.audit.models import AuditEntry
from passtrace.cases.models import Case
from passtrace.core.clock import LOCAL_TZ
from passtrace.core.errors import Forbidden, NotFound, ValidationFailed
from passtrace.core.runtime import Runtime
from passtrace.core.security import Principal
from passtrace.people.models import Person
from passtrace.tracing import service as tracing_service
from passtrace.tracing.models import Contact, TracingTask
from tests.tracing.world import T0, case, person, reg, site

DAY = T0.date()
UNKNOWN = "e" * 64  # a hash in the registrations that belongs to no person record


@dataclass
class World:
    case1: Case
    case2: Case
    other: Case  # a case of the district that no run lists
    a: Person  # with case 1's person 10 min apart: the tracing search finds them too
    c: Person  # 45 min apart: only the run's 60-minute window finds them
    b: Person  # with case 2's person


def _world(rt: Runtime, session: Session) -> World:
    s1, s2 = site(session, "road_checkpoint"), site(session, "road_checkpoint")
    p1, p2, a, b, c = (person(session, rt) for _ in range(5))
    reg(session, s1, p1.id_hash, T0)
    reg(session, s1, a.id_hash, T0 + timedelta(minutes=10))
    reg(session, s1, c.id_hash, T0 + timedelta(minutes=45))
    reg(session, s1, UNKNOWN, T0 + timedelta(minutes=20))
    reg(session, s2, p2.id_hash, T0 + timedelta(hours=3))
    reg(session, s2, b.id_hash, T0 + timedelta(hours=3, minutes=5))
    w = World(case(session, p1), case(session, p2), case(session, person(session, rt)),
              a, c, b)
    session.commit()
    return w


def _lake(rt: Runtime, session: Session, tmp_path: Path) -> None:
    export(Source(session.connection()), tmp_path / "lake")
    rt.settings = rt.settings.model_copy(update={
        "lake_dir": str(tmp_path / "lake"), "analytics_results_dir": str(tmp_path / "out")})


def _run(rt: Runtime, session: Session, actor: Principal, cases: list[Case],
         job: str = "companions", finish: bool = True) -> AnalyticsRun:
    run = analytics_service.request_run(
        session=session, actor=actor, job=job, day_from=DAY, day_to=DAY, area_codes=[],
        case_ids=[str(c.id) for c in cases], window_minutes=60)
    session.commit()
    if finish:
        assert analytics_jobs.run_queued(rt) == "1 analytics run(s)"
        session.refresh(run)
        assert run.status == "done", run.error
    return run


def _contacts(session: Session, c: Case) -> dict[uuid.UUID | None, Contact]:
    return {x.person_id: x for x in session.scalars(select(Contact).where(
        Contact.case_id == c.id))}


def _count(session: Session, model: type) -> int:
    return session.scalar(select(func.count()).select_from(model)) or 0


@pytest.fixture
def world(rt: Runtime, session: Session, tmp_path: Path) -> World:
    w = _world(rt, session)
    _lake(rt, session, tmp_path)
    return w


def test_each_case_gets_its_own_companions_merged_and_never_twice(
        rt: Runtime, session: Session, make_persona, world: World) -> None:
    w = world
    official = make_persona("official", "area", "520102")
    # The tracing search of case 1 found A (10 min) and the person-less hash (20 min).
    tracing_service.run(session=session, settings=rt.settings, actor=official.principal,
                        case=w.case1)
    searched = _contacts(session, w.case1)
    assert set(searched) == {w.a.id, None}
    a_task = session.scalar(select(TracingTask.id).where(
        TracingTask.contact_id == searched[w.a.id].id))
    run = _run(rt, session, official.principal, [w.case1, w.case2])

    done = flows.to_contacts(session=session, settings=rt.settings,
                             actor=official.principal, run_id=run.id, case_id=None)
    session.commit()
    by_case = {r.case_id: r for r in done}
    one, two = by_case[w.case1.id], by_case[w.case2.id]
    assert (one.added, one.merged, one.unchanged, one.unknown, one.tasks_made) == (1, 1, 0, 1, 1)
    assert (two.added, two.merged, two.unchanged, two.unknown, two.tasks_made) == (1, 0, 0, 0, 1)

    contacts1 = _contacts(session, w.case1)
    # Case 1: A (merged), C (new); the bare hash stays what the search made of it.
    assert set(contacts1) == {w.a.id, w.c.id, None}
    assert w.b.id not in contacts1  # B was with case 2's person, not case 1's
    assert set(_contacts(session, w.case2)) == {w.b.id}
    a = contacts1[w.a.id]
    kinds = sorted(e["kind"] for e in a.evidence)
    assert kinds == ["analytics_companion", "same_site_window"]
    assert a.kind == "close" and a.id == searched[w.a.id].id  # same row, same task
    assert session.scalar(select(TracingTask.id).where(
        TracingTask.contact_id == a.id)) == a_task
    c = contacts1[w.c.id]
    seen = T0 + timedelta(minutes=45)
    assert c.kind == "close" and c.depth == 1 and c.area_code == "520102"
    assert c.evidence == [{"kind": "analytics_companion", "run": str(run.id),
                           "day": DAY.isoformat(), "window_hits": 1, "stay_overlaps": 0,
                           "from": seen.isoformat(), "to": seen.isoformat()}]
    assert c.first_exposure == c.last_exposure == seen
    assert c.quarantine_until == seen.astimezone(LOCAL_TZ).date() + timedelta(days=14)
    task = session.scalar(select(TracingTask).where(TracingTask.contact_id == c.id))
    assert task is not None and task.status == "not_reached"

    # Again: nothing changes, and it says so.
    contacts_before, tasks_before = _count(session, Contact), _count(session, TracingTask)
    again = {r.case_id: r for r in flows.to_contacts(
        session=session, settings=rt.settings, actor=official.principal, run_id=run.id,
        case_id=None)}
    assert (again[w.case1.id].added, again[w.case1.id].merged,
            again[w.case1.id].unchanged, again[w.case1.id].unknown) == (0, 0, 2, 1)
    assert (_count(session, Contact), _count(session, TracingTask)) == (contacts_before,
                                                                       tasks_before)
    # The tracing search run again keeps the run's evidence on A, and C as it was.
    tracing_service.run(session=session, settings=rt.settings, actor=official.principal,
                        case=w.case1)
    session.expire_all()
    after = _contacts(session, w.case1)
    assert sorted(e["kind"] for e in after[w.a.id].evidence) == kinds
    assert after[w.c.id].evidence == c.evidence

    entries = list(session.scalars(select(AuditEntry).where(
        AuditEntry.action == "analytics.convert").order_by(AuditEntry.id)))
    assert len(entries) == 4 and {e.resource_id for e in entries} == {str(run.id)}
    assert entries[0].actor_user_id == official.user.id
    first = {e.detail["case"]: e.detail for e in entries[:2]}
    assert first[str(w.case1.id)] | {} == {"case": str(w.case1.id), "added": 1, "merged": 1,
                                           "unchanged": 0, "unknown": 1, "tasks_made": 1}


def test_one_picked_case_and_the_run_page_records_it(
        rt: Runtime, session: Session, make_persona, world: World) -> None:
    w = world
    official = make_persona("official", "area", "520102")
    run = _run(rt, session, official.principal, [w.case1, w.case2])
    done = flows.to_contacts(session=session, settings=rt.settings,
                             actor=official.principal, run_id=run.id, case_id=w.case2.id)
    assert [(r.case_id, r.added) for r in done] == [(w.case2.id, 1)]
    assert _contacts(session, w.case1) == {}
    shown = flows.conversions(session=session, run=run)
    assert [(x.case_id, x.added, x.actor_user_id) for x in shown] == [
        (str(w.case2.id), 1, official.user.id)]


def test_refusals_are_clear_and_change_nothing(
        rt: Runtime, session: Session, make_persona, world: World) -> None:
    w = world
    official = make_persona("official", "area", "520102")
    yunyan = make_persona("official", "area", "520103")
    resident = make_persona("public")
    run = _run(rt, session, official.principal, [w.case1])

    def refused(actor: Principal, run_id: uuid.UUID, case_id: uuid.UUID | None,
                error: type[Exception], message: str | None = None) -> None:
        with pytest.raises(error) as got:
            flows.to_contacts(session=session, settings=rt.settings, actor=actor,
                              run_id=run_id, case_id=case_id)
        if message:
            assert str(got.value.message) == message  # type: ignore[attr-defined]

    refused(official.principal, run.id, w.other.id, ValidationFailed, flows.NOT_LISTED)
    refused(yunyan.principal, run.id, w.case1.id, NotFound)  # another district
    refused(resident.principal, run.id, w.case1.id, Forbidden)
    queued = _run(rt, session, official.principal, [w.case1], finish=False)
    refused(official.principal, queued.id, None, ValidationFailed, flows.NOT_DONE)
    analytics_jobs.run_queued(rt)
    site_load = _run(rt, session, official.principal, [], job="site-load")
    refused(official.principal, site_load.id, None, ValidationFailed, flows.NOT_COMPANIONS)
    assert _count(session, Contact) == 0 and _count(session, TracingTask) == 0
    assert session.scalar(select(func.count()).select_from(AuditEntry).where(
        AuditEntry.action == "analytics.convert")) == 0


def test_api_then_the_export_goes_through_the_reveal(
        rt: Runtime, session: Session, client, make_persona, world: World) -> None:
    w = world
    official = make_persona("official", "area", "520102")
    run = _run(rt, session, official.principal, [w.case1, w.case2])
    shown = client.get(f"/api/v1/analytics/runs/{run.id}", headers=official.headers).json()
    url = shown["add_to_contacts_url"]
    assert url == f"/api/v1/analytics/runs/{run.id}/contacts"
    resp = client.post(url, json={"case_id": str(w.case1.id)}, headers=official.headers)
    assert resp.status_code == 200, resp.text
    body = resp.json()
    assert body["cases"] == [{"case_id": str(w.case1.id), "added": 2, "merged": 0,
                              "unchanged": 0, "unknown": 1, "tasks_made": 2,
                              "contacts_url": f"/api/v1/cases/{w.case1.id}/contacts"}]

    export_url = f"/api/v1/cases/{w.case1.id}/contacts/export"
    masked = client.post(export_url, json={"analytics_run": str(run.id)},
                         headers=official.headers)
    assert masked.status_code == 200
    rows = list(csv.DictReader(io.StringIO(masked.content.decode("utf-8-sig"))))
    assert len(rows) == 2 and "id_number" not in rows[0]
    assert {r["person"] for r in rows} == {w.a.id_masked, w.c.id_masked}
    no_reason = client.post(export_url, json={"analytics_run": str(run.id), "reveal": {
        "purpose": "contact_tracing", "reason": ""}}, headers=official.headers)
    assert no_reason.status_code == 422
    revealed = client.post(export_url, json={"analytics_run": str(run.id), "reveal": {
        "purpose": "contact_tracing", "reason": "流调：分析结果中的同行人"}},
        headers=official.headers)
    assert revealed.status_code == 200, revealed.text
    rows = list(csv.DictReader(io.StringIO(revealed.content.decode("utf-8-sig"))))
    assert {r["id_number"] for r in rows} == {
        rt.vault.read(w.a, "id_enc"), rt.vault.read(w.c, "id_enc")}
    entry = session.scalar(select(AuditEntry).where(
        AuditEntry.action == "contact.companions.export",
        AuditEntry.subject_person_id.is_(None), AuditEntry.reason.is_not(None)))
    assert entry is not None and entry.detail["analytics_run"] == str(run.id)
    assert entry.detail["revealed"] is True and entry.detail["rows"] == 2
    # C sees the export in "who viewed my data", with the reason.
    seen = access_log.access_page(session=session, person_id=w.c.id).entries
    assert any(e.action == "contact.companions.export" and e.reason
               and e.detail["analytics_run"] == str(run.id) for e in seen)

    # Another district: 404; a resident: 403; a case the run does not list: 422.
    yunyan = make_persona("official", "area", "520103")
    resident = make_persona("public")
    assert client.post(url, json={}, headers=yunyan.headers).status_code == 404
    assert client.post(url, json={}, headers=resident.headers).status_code == 403
    bad = client.post(url, json={"case_id": str(w.other.id)}, headers=official.headers)
    assert bad.status_code == 422 and bad.json()["error"]["message"]
    assert client.post(url, json={"case_id": "nope"},
                       headers=official.headers).status_code == 422
    assert client.post(url, json={"case_id": None, "extra": 1},
                       headers=official.headers).status_code == 422


def test_the_run_page_adds_and_links_the_case(
        rt: Runtime, session: Session, client, make_persona, world: World) -> None:
    w = world
    official = make_persona("official", "area", "520102")
    run = _run(rt, session, official.principal, [w.case1, w.case2])
    page = client.get(f"/analytics/runs/{run.id}", headers=official.headers)
    assert 'id="convert-form"' in page.text and 'id="conversions"' not in page.text
    assert page.text.count('<option value="') == 3  # every case, and each one
    assert "南明区" in page.text and "520102" not in page.text  # areas by name, no codes
    bad = client.post(f"/analytics/runs/{run.id}/contacts", data={"case": str(w.other.id)},
                      headers=official.headers, follow_redirects=False)
    assert bad.status_code == 422 and 'role="alert"' in bad.text
    assert _count(session, Contact) == 0
    done = client.post(f"/analytics/runs/{run.id}/contacts", data={"case": ""},
                       headers=official.headers, follow_redirects=False)
    assert done.status_code == 303, done.text
    page = client.get(f"/analytics/runs/{run.id}", headers=official.headers)
    assert 'id="conversions"' in page.text
    assert f'href="/cases/{w.case1.id}/contacts"' in page.text
    assert f'href="/cases/{w.case2.id}/contacts"' in page.text
    assert f'name="analytics_run" value="{run.id}"' in page.text  # export these companions
    assert official.user.display_name in page.text
    # The export form of the run page: revealed with a reason, audited as from the run.
    got = client.post(f"/cases/{w.case2.id}/contacts/export", data={
        "format": "csv", "reveal": "1", "purpose": "contact_tracing",
        "reason": "流调：分析结果中的同行人", "analytics_run": str(run.id)},
        headers=official.headers)
    assert got.status_code == 200
    assert rt.vault.read(w.b, "id_enc") in got.content.decode("utf-8-sig")
    assert session.scalar(select(func.count()).select_from(AuditEntry).where(
        AuditEntry.action == "contact.companions.export",
        AuditEntry.subject_person_id == w.b.id)) == 1
    resident = make_persona("public")
    yunyan = make_persona("official", "area", "520103")
    assert client.post(f"/analytics/runs/{run.id}/contacts", data={"case": ""},
                       headers=resident.headers, follow_redirects=False).status_code == 403
    assert client.post(f"/analytics/runs/{run.id}/contacts", data={"case": ""},
                       headers=yunyan.headers, follow_redirects=False).status_code == 404


def test_the_case_page_names_the_evidence(rt: Runtime, session: Session, client,
                                          make_persona, world: World) -> None:
    w = world
    official = make_persona("official", "area", "520102")
    run = _run(rt, session, official.principal, [w.case2])
    flows.to_contacts(session=session, settings=rt.settings, actor=official.principal,
                      run_id=run.id, case_id=None)
    session.commit()
    page = client.get(f"/cases/{w.case2.id}/contacts", headers=official.headers)
    assert "人群分析中的时空伴随 × 1" in page.text  # the evidence, named (zh default)


def test_a_result_without_the_index_person_is_refused(
        rt: Runtime, session: Session, make_persona, world: World, tmp_path: Path) -> None:
    """A result written before the job kept the index person cannot say whose companion
    anyone was: refused with a clear reason, nothing added."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    official = make_persona("official", "area", "520102")
    run = _run(rt, session, official.principal, [world.case1])
    path = analytics_service.result_path(rt.settings.analytics_results_dir, run)
    pq.write_table(pa.table({"date": [date(2026, 11, 10)], "person_hash": [UNKNOWN],
                             "window_hits": [1], "stay_overlaps": [0]}), path)
    with pytest.raises(ValidationFailed):
        flows.to_contacts(session=session, settings=rt.settings, actor=official.principal,
                          run_id=run.id, case_id=None)
    assert _count(session, Contact) == 0


def test_merging_never_downgrades_a_stored_contact(rt: Runtime, session: Session) -> None:
    """A secondary contact (evidence in summary) and a general one (a colleague) found
    by the search become close at depth 1 with the run's item added; exposures and the
    quarantine only widen; a later quarantine already set stays."""
    from passtrace.tracing import contacts as contact_search

    p, sec, gen = (person(session, rt) for _ in range(3))
    c = case(session, p)
    late = date(2026, 12, 31)
    old_first = T0 - timedelta(hours=5)
    stored = {
        sec.id_hash: Contact(case_id=c.id, person_hash=sec.id_hash, person_id=sec.id,
                             kind="secondary", depth=2, first_exposure=old_first,
                             last_exposure=old_first, quarantine_until=late,
                             area_code="520103", found_at=T0,
                             evidence=[{"kind": "same_site_window", "site": "s"}],
                             evidence_counts={"same_site_window": 3}),
        gen.id_hash: Contact(case_id=c.id, person_hash=gen.id_hash, person_id=gen.id,
                             kind="general", depth=1, first_exposure=old_first,
                             last_exposure=old_first, quarantine_until=DAY, area_code="",
                             found_at=T0, evidence=[{"kind": "colleague", "date": "d"}])}
    session.add_all(stored.values())
    session.flush()
    at = T0 + timedelta(hours=1)
    item = {"kind": "analytics_companion", "run": "r", "day": DAY.isoformat(),
            "window_hits": 1, "stay_overlaps": 0, "from": at.isoformat(),
            "to": at.isoformat()}
    found = [contact_search.Outside(h, at, at, item) for h in stored]
    merged = contact_search.merge_outside(session=session, case=c, found=found)
    assert (merged.added, merged.merged, merged.unchanged) == (0, 2, 0)
    assert all(s.newly_close for s in merged.stored)  # each gets a tracing task
    session.expire_all()
    rows = _contacts(session, c)
    s, g = rows[sec.id], rows[gen.id]
    assert (s.kind, s.depth, g.kind, g.depth) == ("close", 1, "close", 1)
    assert s.evidence_counts == {"same_site_window": 3, "analytics_companion": 1}
    assert item in s.evidence and item in g.evidence and len(g.evidence) == 2
    assert s.first_exposure == old_first and s.last_exposure == at
    assert s.quarantine_until == late  # never shortened
    assert g.quarantine_until == at.astimezone(LOCAL_TZ).date() + timedelta(days=14)
    assert s.area_code == "520103"  # where the search placed them
    again = contact_search.merge_outside(session=session, case=c, found=found)
    assert (again.added, again.merged, again.unchanged, again.stored) == (0, 0, 2, [])
