"""Verification pages: who sees an enterprise's summary and a report's findings, audited."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from passtrace.audit.models import AuditEntry
from passtrace.enterprises.models import Department, Enterprise
from passtrace.tracing import verify
from tests.tracing.verify_world import DAY, OFFICE, at, build, filed_by

EN = {"Accept-Language": "en"}
CODE, OTHER = "91520102MA6J5GQX4T", "91520103MA7K8L9M1X"


@pytest.fixture
def vw(session, make_persona):  # type: ignore[no-untyped-def]
    w = build(session, credit_code=CODE, area="520102006")
    filer = make_persona("public")
    p, e, r = filed_by(w, filer.user.id)
    other_ent = Enterprise(credit_code=OTHER, name="贵阳云岩物流有限公司", area_code="520103003")
    session.add(other_ent)
    other_dept = Department(enterprise_id=w.ent.id, name="销售部")
    session.add(other_dept)
    session.flush()
    verify.verify(session=session, first=DAY, last=DAY)
    session.commit()
    return {"w": w, "report": r, "person": p, "emp": e, "filer": filer,
            "other_dept": other_dept}


def _get(client, persona, path):  # type: ignore[no-untyped-def]
    return client.get(path, headers={**persona.headers, **EN})


def test_hr_and_area_officials_see_the_summary_others_do_not(vw, client, make_persona,
                                                              session) -> None:  # type: ignore[no-untyped-def]
    ent = vw["w"].ent
    page = f"/verify/enterprises/{ent.id}?start={DAY}&end={DAY}"
    hr = make_persona("enterprise_admin", "enterprise", CODE)
    resp = _get(client, hr, page)
    assert resp.status_code == 200, resp.text
    assert "Corroborated" in resp.text and "100%" in resp.text  # stop 2 unobservable: left out
    assert f"/verify/reports/{vw['report'].id}" in resp.text
    # The listed person's access log tells who read their findings.
    assert session.scalars(select(AuditEntry).where(
        AuditEntry.subject_person_id == vw["person"].id,
        AuditEntry.action == "report.findings.view")).first() is not None
    assert _get(client, make_persona("official", "area", "520102"), page).status_code == 200
    assert _get(client, make_persona("enterprise_admin", "enterprise", OTHER),
                page).status_code == 404
    assert _get(client, make_persona("official", "area", "520103"), page).status_code == 404
    assert _get(client, make_persona("public"), page).status_code == 403


def test_a_department_head_sees_only_their_department(vw, client, make_persona) -> None:  # type: ignore[no-untyped-def]
    ent, report = vw["w"].ent, vw["report"]
    own = make_persona("department_head", "department", str(vw["emp"].department_id))
    other = make_persona("department_head", "department", str(vw["other_dept"].id))
    page = f"/verify/enterprises/{ent.id}?start={DAY}&end={DAY}"
    assert f"/verify/reports/{report.id}" in _get(client, own, page).text
    assert f"/verify/reports/{report.id}" not in _get(client, other, page).text
    assert _get(client, own, f"/verify/reports/{report.id}").status_code == 200
    assert _get(client, other, f"/verify/reports/{report.id}").status_code == 404


def test_report_findings_for_hr_the_filer_and_nobody_else(vw, client, make_persona,
                                                          session) -> None:  # type: ignore[no-untyped-def]
    path = f"/verify/reports/{vw['report'].id}"
    hr = make_persona("enterprise_admin", "enterprise", CODE)
    resp = _get(client, hr, path)
    assert resp.status_code == 200
    assert "Corroborated" in resp.text and "Unobservable" in resp.text
    assert "Registration at" in resp.text and "Reported stop 2" in resp.text
    # The filer reads their own findings (to correct their report).
    assert _get(client, vw["filer"], path).status_code == 200
    assert _get(client, make_persona("public"), path).status_code == 403
    assert _get(client, make_persona("official", "area", "520103"), path).status_code == 404
    assert _get(client, make_persona("enterprise_admin", "enterprise", OTHER),
                path).status_code == 404
    assert _get(client, make_persona("official", "area", "5201"), path).status_code == 200


def test_only_the_enterprise_admin_sets_the_tolerance(vw, client, make_persona,
                                                      session) -> None:  # type: ignore[no-untyped-def]
    ent = vw["w"].ent
    path = f"/verify/enterprises/{ent.id}/tolerance"
    hr = make_persona("enterprise_admin", "enterprise", CODE)
    head = make_persona("department_head", "department", str(vw["emp"].department_id))
    assert client.post(path, data={"minutes": "300"}, headers={**hr.headers, **EN},
                       follow_redirects=False).status_code == 422
    assert client.post(path, data={"minutes": "15"}, headers={**head.headers, **EN},
                       follow_redirects=False).status_code == 403
    session.expire_all()
    assert session.get(Enterprise, ent.id).verify_tolerance_minutes == 30
    assert client.post(path, data={"minutes": "15"}, headers={**hr.headers, **EN},
                       follow_redirects=False).status_code == 303
    session.expire_all()
    assert session.get(Enterprise, ent.id).verify_tolerance_minutes == 15
    home = _get(client, hr, f"/enterprises/{ent.id}")
    assert 'value="15"' in home.text


def test_verify_now_replaces_the_findings(vw, client, make_persona, session) -> None:  # type: ignore[no-untyped-def]
    ent = vw["w"].ent
    hr = make_persona("enterprise_admin", "enterprise", CODE)
    vw["w"].seen(vw["person"], OFFICE, at("09:30"))
    session.commit()
    resp = client.post(f"/verify/enterprises/{ent.id}/run",
                       data={"start": DAY.isoformat(), "end": DAY.isoformat()},
                       headers={**hr.headers, **EN}, follow_redirects=False)
    assert resp.status_code == 303
    view = _get(client, hr, f"/verify/reports/{vw['report'].id}")
    assert "Unobservable" not in view.text and "100%" in view.text
    bad = client.post(f"/verify/enterprises/{ent.id}/run",
                      data={"start": "2026-11-21", "end": "2026-11-20"},
                      headers={**hr.headers, **EN}, follow_redirects=False)
    assert bad.status_code in (400, 409, 422)


def test_a_stops_place_follows_its_number_with_each_languages_spacing(
        vw, client, make_persona, session) -> None:  # type: ignore[no-untyped-def]
    vw["report"].stops[0].place = "家"
    session.commit()
    path = f"/verify/reports/{vw['report'].id}"
    hr = make_persona("enterprise_admin", "enterprise", CODE)
    english = _get(client, hr, path).text
    assert 'Reported stop 1<span class="muted"> (家)</span>' in english
    chinese = client.get(path, headers={**hr.headers, "Accept-Language": "zh-CN"}).text
    assert '所报第 1 个停留点<span class="muted">（家）</span>' in chinese
