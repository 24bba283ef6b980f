"""The case timeline: registrations, stays, reported stops and trips inside the window,
cut at local midnight on both ends; reading it reaches the person's access log."""

from __future__ import annotations

import uuid
from datetime import date, datetime, timedelta

import pytest

from passtrace.cases import timeline
from passtrace.cases.models import Case
from passtrace.core.ids import uuid7
from passtrace.enterprises.models import Department, Employee, Enterprise
from passtrace.registrations.models import Stay
from passtrace.reports.models import DailyReport, ReportStop
from tests.cases.conftest import add_registration, audit_actions, local, make_site, new_case


def add_stay(session, site, person_hash: str, start: datetime, end: datetime) -> Stay:  # type: ignore[no-untyped-def]
    stay = Stay(id=uuid7(), person_hash=person_hash, site_id=site.id, started_at=start,
                ended_at=end, closed_by="out")
    session.add(stay)
    session.flush()
    return stay


def add_report(session, person_id: uuid.UUID, person_hash: str, day: date,  # type: ignore[no-untyped-def]
               stops: list[dict[str, object]]) -> DailyReport:
    ent = Enterprise(credit_code=f"9152010{uuid.uuid4().hex[:11].upper()}", name="测试企业",
                     area_code="520102006")
    session.add(ent)
    session.flush()
    dept = Department(enterprise_id=ent.id, name="生产部")
    session.add(dept)
    session.flush()
    emp = Employee(enterprise_id=ent.id, department_id=dept.id, person_id=person_id)
    session.add(emp)
    session.flush()
    report = DailyReport(employee_id=emp.id, enterprise_id=ent.id, department_id=dept.id,
                         report_date=day, temperature=36.5, submitted_at=local(2026, 11, 30),
                         person_hash=person_hash)
    session.add(report)
    session.flush()
    for seq, stop in enumerate(stops):
        session.add(ReportStop(report_id=report.id, seq=seq, **stop))
    session.flush()
    return report


@pytest.fixture
def world(client, session, cast):  # type: ignore[no-untyped-def]
    """A case whose window is 2026-11-18 00:00 .. 2026-11-26 00:00 (local), and its person's
    movements either side of both midnights."""
    c = new_case(client, cast["official"].headers)
    case = session.get(Case, uuid.UUID(c["id"]))
    h = case.person_hash
    gate = make_site(session, "花果园小区东门", "community_gate")
    road = make_site(session, "南明检查站")
    add_registration(session, road, h, local(2026, 11, 17, 23, 59))  # a minute early
    add_registration(session, road, h, local(2026, 11, 18, 0, 0))  # the first minute
    add_registration(session, gate, h, local(2026, 11, 25, 23, 59), "in")  # the last minute
    add_registration(session, road, h, local(2026, 11, 26, 0, 0))  # just after
    add_registration(session, road, "someone-else", local(2026, 11, 20, 9, 0))
    add_stay(session, gate, h, local(2026, 11, 17, 22, 0), local(2026, 11, 18, 1, 0))
    add_stay(session, gate, h, local(2026, 11, 26, 0, 0), local(2026, 11, 26, 8, 0))
    add_report(session, case.person_id, h, date(2026, 11, 20), [
        {"area_code": "520102006", "place": "家", "arrive_at": local(2026, 11, 20),
         "depart_at": local(2026, 11, 20, 8, 0)},
        {"area_code": "520103003", "place": "公司", "arrive_at": local(2026, 11, 20, 9, 0),
         "depart_at": local(2026, 11, 20, 17, 0), "mode": "train", "ref": "G1234",
         "seat": "05车12A"},
    ])
    session.commit()
    return {"case": case, "c": c, "headers": cast["official"].headers}


def test_the_timeline_holds_what_lies_inside_the_window_on_one_axis(session, world):
    found = timeline.gather(session=session, case=world["case"])
    got = [(i.kind, i.start) for i in found.items]
    assert got == [
        ("stay", local(2026, 11, 17, 22, 0)),  # overlaps the window's first minute
        ("registration", local(2026, 11, 18, 0, 0)),
        ("stop", local(2026, 11, 20)),
        ("trip", local(2026, 11, 20, 8, 0)),
        ("stop", local(2026, 11, 20, 9, 0)),
        ("registration", local(2026, 11, 25, 23, 59)),
    ]
    trip = found.items[3]
    assert (trip.end, trip.mode, trip.ref, trip.seat) == (
        local(2026, 11, 20, 9, 0), "train", "G1234", "05车12A")
    assert found.items[-1].place == "花果园小区东门" and not found.truncated


def test_a_person_with_no_movements_has_an_empty_timeline(client, session, cast):
    c = new_case(client, cast["official"].headers)
    assert timeline.gather(session=session, case=session.get(Case, uuid.UUID(c["id"]))
                           ).items == []
    page = client.get(f"/cases/{c['id']}", headers=cast["official"].headers)
    assert page.status_code == 200 and 'id="timeline-table"' in page.text


def test_moving_the_window_moves_the_timeline(client, session, world):
    h, cid = world["headers"], world["c"]["id"]
    resp = client.patch(f"/api/v1/cases/{cid}", headers=h, json={
        "version": 1, "window_start": "2026-11-26", "window_end": "2026-11-26"})
    assert resp.status_code == 200, resp.text
    session.expire_all()
    found = timeline.gather(session=session, case=session.get(Case, uuid.UUID(cid)))
    assert [(i.kind, i.start) for i in found.items] == [
        ("registration", local(2026, 11, 26)), ("stay", local(2026, 11, 26))]


def test_the_case_page_shows_the_table_and_chart_and_audits_the_read(client, session, world):
    page = client.get(f"/cases/{world['c']['id']}", headers=world["headers"])
    assert page.status_code == 200
    html = page.text
    assert html.count('class="tl-registration"') == 2 and 'class="tl-trip"' in html
    assert "南明检查站" in html and "G1234" in html and "2026-11-18 00:00" in html
    assert '<svg class="chart timeline"' in html and html.count("<circle") == 2
    assert f'hx-get="/cases/{world["c"]["id"]}/contacts"' in html
    assert "case.timeline" in audit_actions(session, world["case"].person_id)


def test_the_chart_places_marks_by_time(session, world):
    from passtrace.cases import present

    found = timeline.gather(session=session, case=world["case"])
    svg = str(present.chart(world["case"], found))
    # The registration at the window's first minute sits on the axis's left edge (x=110).
    assert 'cx="110.0"' in svg
    assert svg.count("<rect") >= 4 + len([i for i in found.items if i.end is not None])
    assert (world["case"].window_end - world["case"].window_start) == timedelta(days=8)
