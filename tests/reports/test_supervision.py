"""Dashboard numbers, export content and safety, and who may see what."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime, timedelta

import pytest
from openpyxl import load_workbook
from sqlalchemy import select

from passtrace.audit.models import AuditEntry
from passtrace.core.export import neutralise
from tests.reports.conftest import CODE, OTHER_CODE, commute, file


def _dashboard(client, persona, code=CODE, **params):  # type: ignore[no-untyped-def]
    return client.get("/api/v1/reports/dashboard", params={"enterprise": code, **params},
                      headers={**persona.headers, "Accept-Language": "en"})


def _seed(client, world):  # type: ignore[no-untyped-def]
    file(client, world.staff["alice"].persona, world.today, temperature=37.6)
    stops = commute(world.today)
    stops[1].update(mode="train", ref="G1234", seat="05车12F")
    file(client, world.staff["bob"].persona, world.today, stops=stops)


def test_dashboard_numbers_for_the_enterprise_admin(client, world, session):
    _seed(client, world)
    resp = _dashboard(client, world.admin)
    assert resp.status_code == 200, resp.text
    b = resp.json()
    assert (b["headcount"], b["submitted"]) == (3, 2)
    by_name = {d["name"]: d for d in b["departments"]}
    assert by_name["生产部"]["rate"] == 1.0 and by_name["销售部"]["rate"] == 0.5
    assert b["deadline_passed"] and b["overdue_total"] == 1
    assert b["overdue"][0]["name"] == "赵*"  # masked
    assert [a["name"] for a in b["anomalies"]] == ["王**"]
    assert "fever" in b["anomalies"][0]["reasons"][0]
    assert len(b["trend"]) == 14 and b["trend"][-1]["submitted"] == 2
    audits = session.scalars(select(AuditEntry).where(
        AuditEntry.action == "report.dashboard")).all()
    # One entry for the read, and one in the access log of each person named on it.
    assert len([a for a in audits if a.subject_person_id is None]) == 1
    named = {a.subject_person_id for a in audits if a.subject_person_id}
    assert named == {world.staff["alice"].persona.user.person_id,
                     world.staff["carol"].persona.user.person_id}


def test_a_stop_in_a_risky_area_is_an_anomaly(client, world, make_persona):
    _seed(client, world)
    official = make_persona("official", "area", "520103")
    resp = client.post("/api/v1/area-risks", headers=official.headers, json={
        "area_code": "520103003", "level": "medium",
        "valid_from": datetime(2026, 11, 19, tzinfo=UTC).isoformat()})
    assert resp.status_code == 201, resp.text
    far = make_persona("official", "area", "520102")
    assert client.post("/api/v1/area-risks", headers=far.headers, json={
        "area_code": "520103003", "level": "high"}).status_code == 403
    b = _dashboard(client, world.admin).json()
    reasons = {a["name"]: a["reasons"] for a in b["anomalies"]}
    assert "was in a risk area" in reasons["李**"]


def test_a_department_head_sees_only_their_department(client, world):
    _seed(client, world)
    b = _dashboard(client, world.head).json()
    assert [d["name"] for d in b["departments"]] == ["销售部"]
    assert (b["headcount"], b["submitted"]) == (2, 1)
    assert b["anomalies"] == []  # alice (生产部) is not theirs
    other = _dashboard(client, world.head, department=str(world.depts["生产部"].id))
    assert other.status_code == 404
    alice_report = file(client, world.staff["alice"].persona, world.today).json()
    assert client.get(f"/api/v1/reports/{alice_report['id']}",
                      headers=world.head.headers).status_code == 404
    bob_report = file(client, world.staff["bob"].persona, world.today).json()
    assert client.get(f"/api/v1/reports/{bob_report['id']}",
                      headers=world.head.headers).status_code == 200


def test_an_outsider_gets_404_everywhere(client, world):
    _seed(client, world)
    report = file(client, world.staff["alice"].persona, world.today).json()
    assert _dashboard(client, world.outsider).status_code == 404
    assert client.get(f"/api/v1/reports/{report['id']}",
                      headers=world.outsider.headers).status_code == 404
    assert client.get("/api/v1/reports/export", headers=world.outsider.headers, params={
        "enterprise": CODE, "from": str(world.today), "to": str(world.today)}
    ).status_code == 404
    # Their own enterprise works (and is empty).
    assert _dashboard(client, world.outsider, code=OTHER_CODE).json()["submitted"] == 0
    # Employees see only their own reports.
    assert client.get(f"/api/v1/reports/{report['id']}",
                      headers=world.staff["bob"].persona.headers).status_code == 404
    assert client.get(f"/api/v1/reports/{report['id']}",
                      headers=world.staff["alice"].persona.headers).status_code == 200


def test_neutraliser():
    for bad in ("=1+1", "+1", "-2", "@SUM(A1)", "\tx", "\rx"):
        assert neutralise(bad) == "'" + bad
    assert neutralise("家") == "家" and neutralise(-2) == -2 and neutralise(None) is None


def test_csv_export_is_complete_and_injection_safe(client, world, session):
    stops = commute(world.today)
    stops[1].update(place="=HYPERLINK(\"http://evil\")", mode="train", ref="G1234",
                    seat="05车12F")
    file(client, world.staff["bob"].persona, world.today, stops=stops)
    file(client, world.staff["alice"].persona, world.today - timedelta(days=1),
         stayed_home=True, stops=[])
    resp = client.get("/api/v1/reports/export", headers={**world.admin.headers,
                                                         "Accept-Language": "en"},
                      params={"enterprise": CODE, "from": str(world.today - timedelta(days=1)),
                              "to": str(world.today), "format": "csv"})
    assert resp.status_code == 200, resp.text
    assert resp.headers["content-disposition"].startswith("attachment")
    rows = list(csv.reader(io.StringIO(resp.content.decode("utf-8-sig"))))
    assert rows[0][0] == "Date" and len(rows) == 1 + 1 + 3  # header, stayed home, 3 stops
    train = [r for r in rows if r[14] == "Train"][0]  # the label, not the stored code
    assert train[11] == "'=HYPERLINK(\"http://evil\")" and train[15] == "G1234"
    assert train[3] == "李**"
    assert session.scalars(select(AuditEntry).where(
        AuditEntry.action == "report.export")).all()


def test_xlsx_export(client, world):
    stops = commute(world.today)
    stops[0]["place"] = "+cmd|' /C calc'!A0"
    file(client, world.staff["alice"].persona, world.today, stops=stops)
    resp = client.get("/api/v1/reports/export", headers=world.head.headers,
                      params={"enterprise": CODE, "from": str(world.today),
                              "to": str(world.today), "format": "xlsx"})
    assert resp.status_code == 200  # the head's department has no reports: header only
    wb = load_workbook(io.BytesIO(resp.content), read_only=True)
    assert len(list(wb.active.iter_rows())) == 1
    resp = client.get("/api/v1/reports/export", headers=world.admin.headers,
                      params={"enterprise": CODE, "from": str(world.today),
                              "to": str(world.today), "format": "xlsx"})
    wb = load_workbook(io.BytesIO(resp.content), read_only=True)
    cells = [[c.value for c in r] for r in wb.active.iter_rows()]
    assert len(cells) == 4
    assert cells[1][11] == "'+cmd|' /C calc'!A0" and cells[1][4] == 36.5


def test_export_range_is_checked(client, world):
    resp = client.get("/api/v1/reports/export", headers=world.admin.headers, params={
        "enterprise": CODE, "from": str(world.today), "to": str(world.today - timedelta(1))})
    assert resp.status_code == 422


@pytest.mark.parametrize("day", ["0001-01-01", "9999-12-31", "1999-12-31", "2100-01-01"])
def test_a_dashboard_day_out_of_range_is_a_clear_error(client, world, day):
    resp = _dashboard(client, world.admin, day=day)
    assert resp.status_code == 422, resp.text  # 0001-01-01 was a 500
    assert "between 2000-01-01 and 2099-12-31" in resp.json()["error"]["fields"]["day"]
    page = client.get("/reports/dashboard", params={"enterprise": CODE, "day": day},
                      headers={**world.admin.headers, "Accept-Language": "en"})
    assert page.status_code == 422


def test_an_export_range_out_of_bounds_is_a_clear_error(client, world):
    resp = client.get("/api/v1/reports/export", headers=world.admin.headers, params={
        "enterprise": CODE, "from": "0001-01-01", "to": "9999-12-31"})
    assert resp.status_code == 422, resp.text
    assert {"from", "to"} <= set(resp.json()["error"]["fields"])
