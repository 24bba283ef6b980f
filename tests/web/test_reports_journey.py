"""Daily report journey in a real browser: file with a train trip, see it on the dashboard."""

from __future__ import annotations

from datetime import time
from typing import Any

import pytest
from sqlalchemy import select, update

from passtrace.core.db import session_scope
from passtrace.enterprises.models import Enterprise
from tests.web.conftest import LiveServer, login

pytestmark = pytest.mark.browser


@pytest.fixture
def deadline_passed(live_server: LiveServer) -> Any:
    """Move every demo enterprise's deadline to midnight, so today is already overdue."""
    for session in session_scope(live_server.rt.sessions):
        before = dict(session.execute(select(Enterprise.id, Enterprise.report_deadline)).all())
        session.execute(update(Enterprise).values(report_deadline=time(0, 0)))
    yield
    for session in session_scope(live_server.rt.sessions):
        for ent_id, deadline in before.items():
            session.execute(update(Enterprise).where(Enterprise.id == ent_id)
                            .values(report_deadline=deadline))


@pytest.fixture
def after_work() -> Any:
    """Hold the server's clock after today's last stop ends (16:30 China time) or later.

    A report names only places already been to, so the trip below is filed in the evening.
    """
    from datetime import datetime

    from passtrace.core import clock

    now = clock.utcnow()
    evening = datetime.combine(clock.local_today(now), time(17, 0), clock.LOCAL_TZ)
    clock.freeze(max(now, evening))
    yield
    clock.freeze(None)


def _fill_stop(stop: Any, area: str, place: str, arrive: str, depart: str,
               mode: str | None = None, ref: str = "", seat: str = "") -> None:
    stop.locator("[data-field=area]").select_option(area)
    stop.locator("[data-field=place]").fill(place)
    stop.locator("[data-field=arrive]").fill(arrive)
    stop.locator("[data-field=depart]").fill(depart)
    if mode:
        stop.locator("[data-field=mode]").select_option(mode)
        if ref:
            stop.locator("[data-field=ref]").fill(ref)
        if seat:
            stop.locator("[data-field=seat]").fill(seat)


def _zhang_rows(page) -> int:  # type: ignore[no-untyped-def]
    """How many overdue rows show a masked name 张* (the demo has more than one 张)."""
    return sum(1 for text in page.locator("#overdue tbody tr td:first-child").all_inner_texts()
               if text.strip() == "张*")


def test_file_a_train_trip_and_supervise_it(new_context, live_server, deadline_passed,
                                            after_work, shot):
    supervisor = new_context().new_page()
    login(supervisor, "enterprise")
    supervisor.goto("/reports/dashboard")
    zhang_before = _zhang_rows(supervisor)
    assert zhang_before >= 1  # 张三 has not filed today yet

    employee = new_context().new_page()
    login(employee, "resident")
    employee.goto("/reports/today")
    employee.fill("#temperature", "36.6")
    stops = employee.locator("#stops [data-stop]")
    assert stops.count() == 1  # JS trimmed the empty rows
    _fill_stop(stops.nth(0), "520102006001", "家", "00:00", "07:40")
    employee.click("#add-stop")
    assert stops.nth(1).locator("[data-seat]").is_hidden()
    _fill_stop(stops.nth(1), "520103003", "北京路 客户公司", "09:10", "16:30", mode="train",
               ref="g1234", seat="05车12F")
    assert stops.nth(1).locator("[data-seat]").is_visible()
    shot(employee, "report-form", full_page=True)
    with employee.expect_navigation() as nav:
        employee.click("#submit-report")
    assert nav.value.status == 200, employee.content()
    status = employee.locator("#report-status")
    assert "2" in status.inner_text() and status.locator(".badge").count() == 1  # late

    supervisor.goto("/reports/dashboard")
    shot(supervisor, "report-dashboard", full_page=True)
    assert supervisor.locator("svg.chart > title").count() == 2
    overdue = supervisor.locator("#overdue tbody tr")
    assert overdue.count() > 0  # people who have not filed today
    assert _zhang_rows(supervisor) == zhang_before - 1  # 张三 has filed
    anomalies = supervisor.locator("#anomalies").inner_text()
    assert "张*" in anomalies and "风险区域" in anomalies  # 520103003 is a demo risk area
