"""The report pages the dashboard links to, in a real browser: one person's recent reports
(/reports/employee/{id}) and one report (/reports/view/{id}), for whom may see them."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from sqlalchemy import select

from passtrace.enterprises.models import Department, Employee, Enterprise
from passtrace.reports.models import DailyReport
from tests.web.conftest import LiveServer, login

pytestmark = pytest.mark.browser

CREDIT = "91520100MA6J5GQX46"  # the demo "enterprise" admin's enterprise


def _a_report(live_server: LiveServer) -> dict[str, Any]:
    """The newest demo report of someone without a login (no demo resident is its filer)
    outside the sales department (whose head is the demo "dept_head"), with the figures
    the pages should show."""
    with live_server.rt.sessions() as session:
        row = session.execute(
            select(DailyReport, Employee, Department)
            .join(Employee, Employee.id == DailyReport.employee_id)
            .join(Enterprise, Enterprise.id == Employee.enterprise_id)
            .join(Department, Department.id == Employee.department_id)
            .where(Enterprise.credit_code == CREDIT, DailyReport.temperature.is_not(None),
                   Department.name != "销售部", Employee.user_id.is_(None))
            .order_by(DailyReport.report_date.desc()).limit(1)).first()
        assert row is not None, "the demo files 14 days of reports"
        report, emp, _dept = row
        return {"id": str(report.id), "employee": str(emp.id), "name": emp.listed_name,
                "date": report.report_date.isoformat(), "temperature": report.temperature}


def test_the_admin_opens_a_persons_reports_and_one_report(
        new_context: Callable[..., Any], live_server: LiveServer) -> None:
    r = _a_report(live_server)
    admin = new_context().new_page()
    login(admin, "enterprise")
    resp = admin.goto(f"/reports/employee/{r['employee']}")
    assert resp.status == 200
    assert r["name"] in admin.inner_text("h1")
    row = admin.locator("#employee-reports tbody tr", has_text=r["date"])
    assert str(r["temperature"]) in row.inner_text()
    with admin.expect_navigation():
        row.locator(f"a[href='/reports/view/{r['id']}']").click()
    assert admin.url.endswith(f"/reports/view/{r['id']}")
    assert admin.inner_text("#report-temperature") == str(r["temperature"])
    assert r["date"] in admin.inner_text("h1") and r["name"] in admin.inner_text("h1")
    with admin.expect_navigation():
        admin.click(f"a[href='/reports/employee/{r['employee']}']")
    assert admin.locator("#employee-reports").is_visible()


def test_others_find_neither_page(new_context: Callable[..., Any],
                                  live_server: LiveServer) -> None:
    r = _a_report(live_server)
    for who in ("dept_head", "resident2", "official_nm"):
        page = new_context().new_page()
        login(page, who)
        for path in (f"/reports/employee/{r['employee']}", f"/reports/view/{r['id']}"):
            resp = page.goto(path)
            assert resp.status == 404, (who, path)
            assert page.locator("#report-temperature").count() == 0
            assert page.locator("#employee-reports").count() == 0
    page = new_context().new_page()
    login(page, "enterprise")
    assert page.goto("/reports/view/not-a-report").status in (404, 422)
    assert page.locator("header.top .brand").is_visible()  # a page, not a stack trace
