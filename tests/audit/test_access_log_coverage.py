"""Every route that shows or takes persons' data for an official, an employer or a manager
names the people it touched: each of them finds the read in their own access log.

One table of routes (lists, details, exports, dashboards, uploads, guard overrides,
tracing exports); for each, a person the route shows must gain an entry by that actor
in `/me/access-log`. The world is built once per test run of the table (one test, one
database per backend), so the table stays fast.
"""

from __future__ import annotations

import io
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, time
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from passtrace.audit.models import AuditEntry
from passtrace.core.clock import local_today
from passtrace.enterprises.models import Department, Employee, Enterprise
from passtrace.health import service as health_service
from passtrace.health.models import StatusFlag
from passtrace.people import claims
from passtrace.people import service as people_service
from tests.communities.conftest import CODE, GATE, compound, gate_body, id_number_of  # noqa: F401
from tests.conftest import next_id_number
from tests.enterprises.conftest import credit_code
from tests.passes.helpers import apply
from tests.querycount import assert_constant_queries

# clock_stopped (tests/conftest.py): the test works out "today" and the app works it out
# again; one held moment keeps them on the same day at midnight in China (16:00 UTC).
pytestmark = pytest.mark.usefixtures("clock_stopped")

ENT_CODE = credit_code("91520102MA6J5GQX4")


@dataclass
class Route:
    """One route of the table: who calls it, how, and whose log must show it."""

    name: str
    actor: str  # a key of World.people / the compound's personas
    call: Callable[[TestClient, Any, dict[str, str]], Any]
    subject: str  # whose access log must gain an entry by the actor


@dataclass
class World:
    people: dict[str, Any]
    ids: dict[str, str]
    refs: dict[str, Any]


def _today() -> date:
    return local_today()


@pytest.fixture
def world(client, session, rt, compound, make_persona):  # type: ignore[no-untyped-def]  # noqa: F811
    people: dict[str, Any] = {
        "official": compound.official, "manager": compound.manager, "staff": compound.staff,
        "resident": compound.residents[0], "resident2": compound.residents[1]}
    ids = {"resident": compound.id_numbers[0], "resident2": compound.id_numbers[1]}
    refs: dict[str, Any] = {"household": compound.household_id,
                            "resident_row": compound.resident_ids[0]}
    # An enterprise with two staff who have their own accounts (HR listed them).
    ent = Enterprise(credit_code=ENT_CODE, name="贵州黔味食品有限公司", area_code="520102006",
                     report_deadline=time(0, 0))
    session.add(ent)
    session.flush()
    dept = Department(enterprise_id=ent.id, name="生产部")
    session.add(dept)
    session.flush()
    for i, key in enumerate(("worker", "worker2")):
        p = make_persona("public", name=f"员工{i}")
        emp = Employee(enterprise_id=ent.id, department_id=dept.id, person_id=p.user.person_id,
                       user_id=p.user.id, employee_no=f"E{i:04d}")
        session.add(emp)
        claims.record(session=session, vault=rt.vault, person_id=p.user.person_id,
                      source_kind="enterprise", source_id=ent.id, name=f"员工{i}",
                      phone="13800000000")
        session.flush()
        people[key], refs[key] = p, emp.id
        ids[key] = id_number_of(rt, session, p)
    session.commit()
    refs["ent"], refs["dept"] = ent.id, dept.id
    people["hr"] = make_persona("enterprise_admin", "enterprise", ENT_CODE)
    # The worker reports a fever today: an anomaly on the dashboard, a row in the export.
    resp = client.post("/api/v1/reports", json={"temperature": 38.6, "stayed_home": True},
                       headers=people["worker"].headers)
    assert resp.status_code in (200, 201), resp.text
    refs["report"] = resp.json()["id"]
    # A resident out of the compound now (who is out).
    out = client.post("/api/v1/registrations", json=gate_body(id_number=ids["resident2"]),
                      headers=compound.staff.headers)
    assert out.json()["decision"] == "allow", out.text
    # A stranger refused at the gate, then let through by the guard (an override).
    stranger = make_persona("public", name="路人甲")
    people["stranger"], ids["stranger"] = stranger, id_number_of(rt, session, stranger)
    denied = client.post("/api/v1/registrations", json=gate_body(
        id_number=ids["stranger"], direction="in"), headers=compound.staff.headers).json()
    assert denied["decision"] == "deny", denied
    refs["denied"] = denied["id"]
    # Parcels handed over at the gate for the residents' flat (the day's deliveries).
    resp = client.post("/api/v1/deliveries", headers=compound.staff.headers, json={
        "site": GATE, "building": "1", "unit": "1", "room": "101", "company": "顺丰速运",
        "parcels": 1})
    assert resp.status_code == 201, resp.text
    # A visitor a resident invited (the manager's visit list).
    visitor = make_persona("public", name="访客乙")
    people["visitor"], ids["visitor"] = visitor, id_number_of(rt, session, visitor)
    resp = client.post("/api/v1/visits", json={
        "name": "访客乙", "phone": "13900001111", "id_number": ids["visitor"],
        "purpose": "探亲 / family visit", "visit_date": _today().isoformat()},
        headers=compound.residents[0].headers)
    assert resp.status_code == 201, resp.text
    refs["visit"] = resp.json()["id"]
    # A pass waiting for review, and a case opened on a third person.
    applicant = make_persona("public", name="申请人")
    people["applicant"], ids["applicant"] = applicant, id_number_of(rt, session, applicant)
    refs["pending_pass"] = apply(client, applicant.headers)["id"]
    patient = make_persona("public", name="病例丙")
    people["patient"], ids["patient"] = patient, id_number_of(rt, session, patient)
    resp = client.post("/api/v1/cases", headers=compound.official.headers, json={
        "id_number": id_number_of(rt, session, patient), "onset_date": _today().isoformat(),
        "isolation_date": _today().isoformat(), "area_code": "520102"})
    assert resp.status_code == 201, resp.text
    refs["case"] = resp.json()["id"]
    refs["patient_person"] = patient.user.person_id
    # The patient appeals a flag, and an official proposes a status for them by hand: a
    # second official over the patient reads both in the health queue.
    people["official2"] = make_persona("official", "area", "520102")
    health_service.raise_flag(session=session, person_id=patient.user.person_id,
                              level="yellow", source="fever_checkpoint",
                              reason="fever_checkpoint", evidence={"temperature": 37.8},
                              until=None, dedupe_key="coverage:fever")
    session.commit()
    flag_id = session.scalar(select(StatusFlag.id).where(
        StatusFlag.person_id == patient.user.person_id))
    resp = client.post("/api/v1/health/appeals", headers=patient.headers,
                       json={"flag_id": str(flag_id), "statement": "我没有发烧，是测温枪故障"})
    assert resp.status_code == 201, resp.text
    resp = client.post("/api/v1/health/proposals", headers=compound.official.headers, json={
        "person_id": str(patient.user.person_id), "level": "red",
        "reason": "密接核实后需隔离"})
    assert resp.status_code == 201, resp.text
    return World(people, ids, refs)


def _get(path: str) -> Callable[[TestClient, World, dict[str, str]], Any]:
    return lambda c, w, h: c.get(path.format(code=CODE, **{k: str(v) for k, v in
                                                          w.refs.items()}), headers=h)


def _residents_csv(w: World) -> bytes:
    rows = ["楼栋,单元,房号,姓名,身份证号,手机号,身份",
            f"2,1,202,病例丙,{w.ids['patient']},13900001111,业主"]
    return "\n".join(rows).encode()


def _staff_csv(w: World) -> bytes:
    rows = ["部门,姓名,身份证号,手机号,工号", f"生产部,访客乙,{w.ids['visitor']},13900001111,E0099"]
    return "\n".join(rows).encode()


ROUTES = [
    # Enterprises: the staff list and one employee, API and pages; exports; the dashboard.
    Route("staff list (API)", "hr", _get("/api/v1/enterprises/{ent}/employees"), "worker"),
    Route("employee (API)", "hr", _get("/api/v1/enterprises/{ent}/employees/{worker}"),
          "worker"),
    Route("staff list (page)", "hr", _get("/enterprises/{ent}"), "worker2"),
    Route("employee (page)", "hr", _get("/enterprises/{ent}/employees/{worker}"), "worker"),
    Route("commute pass form (page)", "hr", _get("/enterprises/{ent}/commute-passes"),
          "worker2"),
    Route("reports dashboard (API)", "hr",
          lambda c, w, h: c.get(f"/api/v1/reports/dashboard?enterprise={ENT_CODE}",
                                headers=h), "worker"),
    Route("reports dashboard (page)", "hr",
          lambda c, w, h: c.get(f"/reports/dashboard?enterprise={ENT_CODE}", headers=h),
          "worker"),
    Route("reports export (API)", "hr",
          lambda c, w, h: c.get(f"/api/v1/reports/export?enterprise={ENT_CODE}"
                                f"&from={_today()}&to={_today()}", headers=h), "worker"),
    Route("reports export (page)", "hr",
          lambda c, w, h: c.get(f"/reports/export?enterprise={ENT_CODE}"
                                f"&start={_today()}&end={_today()}", headers=h), "worker"),
    Route("one report (API)", "hr", _get("/api/v1/reports/{report}"), "worker"),
    Route("one report (page)", "hr", _get("/reports/view/{report}"), "worker"),
    Route("an employee's reports (page)", "hr", _get("/reports/employee/{worker}"), "worker"),
    Route("staff import (API)", "hr", lambda c, w, h: c.post(
        f"/api/v1/enterprises/{w.refs['ent']}/employees/import", headers=h,
        files={"file": ("staff.csv", io.BytesIO(_staff_csv(w)), "text/csv")}), "visitor"),
    Route("employee add (API)", "hr", lambda c, w, h: c.post(
        f"/api/v1/enterprises/{w.refs['ent']}/employees", headers=h, json={
            "name": "申请人", "id_number": w.ids["applicant"], "phone": "13912345678",
            "department_id": str(w.refs["dept"]), "employee_no": "E0100"}), "applicant"),
    # Compounds: households (API and page), who is out, visits, deliveries, the status
    # code check and the guard's override.
    Route("household list (API)", "manager", _get("/api/v1/communities/{code}/households"),
          "resident"),
    Route("household (API)", "manager",
          _get("/api/v1/communities/{code}/households/{household}"), "resident"),
    Route("household list (page)", "manager", _get("/communities/{code}/households"),
          "resident"),
    Route("resident add (API)", "manager", lambda c, w, h: c.post(
        f"/api/v1/communities/{CODE}/residents", headers=h, json={
            "building": "2", "unit": "1", "room": "201", "name": "访客乙",
            "id_number": w.ids["visitor"], "role": "owner"}), "visitor"),
    Route("residents import (API)", "manager", lambda c, w, h: c.post(
        f"/api/v1/communities/{CODE}/import", headers=h,
        files={"file": ("residents.csv", io.BytesIO(_residents_csv(w)), "text/csv")}),
        "patient"),
    Route("who is out (API)", "manager", _get("/api/v1/communities/{code}/out"), "resident2"),
    Route("who is out (page)", "manager", _get("/communities/{code}/out"), "resident2"),
    Route("visits (API)", "manager", _get("/api/v1/communities/{code}/visits"), "visitor"),
    Route("visits (page)", "manager", _get("/communities/{code}/visits"), "visitor"),
    Route("a visit (API)", "manager", _get("/api/v1/visits/{visit}"), "visitor"),
    Route("resident removal form (page)", "manager",
          _get("/communities/{code}/residents/{resident_row}/remove"), "resident"),
    Route("deliveries (API)", "manager", _get("/api/v1/communities/{code}/deliveries"),
          "resident"),
    Route("deliveries (page)", "staff", _get("/communities/{code}/deliveries"), "resident2"),
    Route("status code check", "staff", lambda c, w, h: c.post(
        "/api/v1/health/status-code/check", headers=h, json={"code": c.get(
            "/api/v1/health/me", headers=w.people["stranger"].headers).json()["code"]}),
        "stranger"),
    Route("guard override", "staff", lambda c, w, h: c.post(
        f"/api/v1/registrations/{w.refs['denied']}/override",
        json={"reason": "持社区证明放行"}, headers=h), "stranger"),
    Route("a registration (API)", "staff", _get("/api/v1/registrations/{denied}"),
          "stranger"),
    # Officials: the review queue, a pass, a reveal, cases.
    Route("pass review queue (API)", "official", _get("/api/v1/passes/review"), "applicant"),
    Route("pass review queue (page)", "official", _get("/passes/review"), "applicant"),
    Route("a pass (API)", "official", _get("/api/v1/passes/{pending_pass}"), "applicant"),
    Route("a pass (page)", "official", _get("/passes/{pending_pass}"), "applicant"),
    Route("a person's status (API)", "official",
          _get("/api/v1/health/people/{patient_person}"), "patient"),
    Route("a person's status (page)", "official", _get("/health/people/{patient_person}"),
          "patient"),
    Route("reveal", "official", lambda c, w, h: c.post(
        f"/api/v1/people/{w.people['resident'].user.person_id}/reveal",
        json={"field": "phone", "purpose": "contact_person", "reason": "联系住户核实情况"},
        headers=h), "resident"),
    Route("case list (API)", "official", _get("/api/v1/cases"), "patient"),
    Route("case (API)", "official", _get("/api/v1/cases/{case}"), "patient"),
    Route("case list (page)", "official", _get("/cases"), "patient"),
    Route("case (page)", "official", _get("/cases/{case}"), "patient"),
    Route("case history (API)", "official", _get("/api/v1/cases/{case}/history"), "patient"),
    Route("chain graph (page)", "official", _get("/cases/{case}/chain"), "patient"),
    # Health: the queue of other officials' proposals and of appeals to decide.
    Route("health proposals (API)", "official2", _get("/api/v1/health/proposals"),
          "patient"),
    Route("health appeals (API)", "official2", _get("/api/v1/health/appeals"), "patient"),
    Route("health queue (page)", "official2", _get("/health/queue"), "patient"),
]


def _entries(session: Any, person_id: Any, user_id: Any) -> int:
    return session.scalar(select(func.count()).select_from(AuditEntry).where(
        AuditEntry.subject_person_id == person_id, AuditEntry.actor_user_id == user_id)) or 0


def test_every_route_names_the_people_it_touched(client, session, world):  # type: ignore[no-untyped-def]
    missing = []
    for route in ROUTES:
        actor = world.people[route.actor]
        subject = world.people[route.subject]
        person_id = subject.user.person_id
        before = _entries(session, person_id, actor.user.id)
        resp = route.call(client, world, actor.headers)
        assert resp.status_code < 400, (route.name, resp.status_code, resp.text[:300])
        session.expire_all()
        if _entries(session, person_id, actor.user.id) <= before:
            missing.append(route.name)
    assert missing == [], f"these routes do not name the people they showed: {missing}"


def test_the_person_sees_it_in_their_own_access_log(client, world):  # type: ignore[no-untyped-def]
    worker = world.people["worker"]
    assert client.get(f"/api/v1/enterprises/{world.refs['ent']}/employees",
                      headers=world.people["hr"].headers).status_code == 200
    log = client.get("/api/v1/me/access-log", headers=worker.headers).json()
    actions = [e["action"] for e in log["items"]]
    assert "employee.view" in actions


def test_a_list_read_is_one_insert_not_one_per_row(client, session, world, rt):  # type: ignore[no-untyped-def]
    h = world.people["hr"].headers
    path = f"/api/v1/enterprises/{world.refs['ent']}/employees"

    def grow() -> None:
        for i in range(2, 12):
            person = people_service.register(session=session, vault=rt.vault, actor=None,
                                             id_number=next_id_number(), name="员工",
                                             phone="13800000000")
            session.add(Employee(enterprise_id=world.refs["ent"],
                                 department_id=world.refs["dept"], person_id=person.id,
                                 employee_no=f"E{i:04d}"))
        session.commit()

    # Ten more employees shown (and logged): not one more statement.
    assert_constant_queries(rt.engine, lambda: client.get(path, headers=h), grow)
