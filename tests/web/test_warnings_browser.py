"""The warnings pages in the browser: an official declares a risk area and the public
sees it; alerts are acknowledged, assigned, resolved with a note or dismissed as a false
alarm, and the rates page shows the false-alarm rate (both databases)."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from sqlalchemy import func, select

from passtrace.accounts.models import User
from passtrace.areas.models import Area
from passtrace.core.db import session_scope
from passtrace.warnings import service as warnings
from passtrace.warnings.models import Alert
from tests.web.conftest import LiveServer, follow, login

pytestmark = pytest.mark.browser
RULE = "checkpoint_fever"


def _street(server: LiveServer) -> Area:
    """A street of 南明区 (520102) no other browser test uses."""
    for session in session_scope(server.rt.sessions):
        area = session.scalars(select(Area).where(Area.parent_code == "520102",
                                                  Area.code != "520102006")
                               .order_by(Area.code.desc()).limit(1)).one()
    return area


def test_a_declared_risk_area_shows_on_the_public_page(new_context: Any,
                                                       live_server: LiveServer) -> None:
    street = _street(live_server)
    page = new_context().new_page()
    login(page, "official_nm")
    page.goto("/warnings/risk-areas")
    page.fill("#area_code", street.code)
    page.select_option("#level", "medium")
    page.fill("#note", "浏览器测试：出现本地病例")
    with page.expect_navigation():
        page.click("#declare-form button[type=submit]")
    assert street.name_zh in page.inner_text("#risk-list")
    public = new_context().new_page()  # nobody logged in
    public.goto("/risk-areas")
    row = public.locator("#public-risks tr", has_text=street.name_zh)
    assert row.count() == 1 and "浏览器测试：出现本地病例" in row.inner_text()
    # Lifting asks first: the confirmation names the area and level and wants a reason.
    mine = page.locator("#risk-list tr", has_text=street.name_zh)
    with page.expect_navigation():
        mine.locator("a.button").click()
    assert street.name_zh in page.inner_text("#lift-what")
    assert "中风险" in page.inner_text("#lift-what")
    public.reload()
    assert public.locator("#public-risks tr", has_text=street.name_zh).count() == 1
    page.fill("#lift-reason", "浏览器测试：已清零")
    follow(page, "#lift-submit")
    # lifted, it leaves the public page (and the next tests' world), its reason kept
    row = page.locator("#risk-list tr", has_text=street.name_zh)
    assert "浏览器测试：已清零" in row.first.inner_text()
    public.reload()
    assert public.locator("#public-risks tr", has_text=street.name_zh).count() == 0


def _raise(server: LiveServer) -> int:
    key = f"browser{uuid.uuid4().hex}".ljust(64, "0")
    for session in session_scope(server.rt.sessions, write=True):
        assert warnings.raise_alert(session=session, rule_code=RULE, subject_kind="person",
                                    subject_key=key, person_hash=key, area_code="520102",
                                    evidence={"temperature": 38.6}, masked="王*")
    for session in session_scope(server.rt.sessions):
        alert_id = session.scalar(select(Alert.id).where(Alert.subject_key == key))
    assert alert_id is not None
    return int(alert_id)


def _status(page: Any) -> str:
    return str(page.inner_text("#alert-status"))


def test_alerts_are_handled_and_the_false_alarm_rate_shows(new_context: Any,
                                                          live_server: LiveServer) -> None:
    handled, false_alarm = _raise(live_server), _raise(live_server)
    page = new_context().new_page()
    login(page, "official_nm")
    page.goto("/warnings/alerts")
    with page.expect_navigation():
        page.click(f"a[href='/warnings/alerts/{handled}']")
    before = _status(page)
    with page.expect_navigation():
        page.click("#ack-form button")
    assert _status(page) != before and page.locator("#ack-form").count() == 0
    for session in session_scope(live_server.rt.sessions):
        me = session.scalar(select(User.id).where(User.username == "official_nm"))
    page.select_option("#user_id", str(me))
    with page.expect_navigation():
        page.click("#assign-form button")
    assert "负责人：南明区防控办" in page.inner_text("#alert-facts")
    page.select_option("#resolution", "contacted")
    page.fill("#note", "已电话联系，居家观察")
    with page.expect_navigation():
        page.click("#resolve-form button")
    assert "已电话联系，居家观察" in page.inner_text("#alert-resolution")
    assert page.locator("#resolve-form").count() == 0  # closed: no more actions

    page.goto(f"/warnings/alerts/{false_alarm}")
    page.fill("#reason", "体温枪故障")
    with page.expect_navigation():
        page.click("#dismiss-form button")
    assert "体温枪故障" in page.inner_text("#alert-facts")

    for session in session_scope(live_server.rt.sessions):
        closed = session.scalar(select(func.count()).select_from(Alert).where(
            Alert.rule_code == RULE, Alert.status.in_(("resolved", "dismissed")),
            Alert.queue_area == "520102"))
        dismissed = session.scalar(select(func.count()).select_from(Alert).where(
            Alert.rule_code == RULE, Alert.status == "dismissed",
            Alert.queue_area == "520102"))
    assert closed and dismissed
    page.goto("/warnings/rates")
    row = page.locator("#rate-list tbody tr").filter(has=page.locator(
        f"a[href='/warnings/alerts?status=dismissed&rule={RULE}']"))
    cells = row.locator("td").all_inner_texts()
    assert cells[1:] == [str(closed), str(dismissed), f"{round(100 * dismissed / closed)}%"]
