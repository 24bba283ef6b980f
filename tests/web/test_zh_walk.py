"""Every page each role reaches, in Chinese: no English words, codes or login names leak."""

from __future__ import annotations

from typing import Any

import pytest

from passtrace import demo
from tests.web.conftest import follow, login
from tests.web.zh_walk import leaked_words, walk

USERS = [u.username for u in demo.DEMO_USERS] + [r[0] for r in demo.DEMO_RESIDENTS]


def test_the_allowlist_lets_codes_through_but_not_words():
    assert leaked_words("贵A12345 · ****123X · GATE-HGY1-N · 36.8°C · CSV · A栋") == set()
    assert leaked_words("用途：household（medium）official_nm web-45d2") == {
        "household", "medium", "official_nm"}


@pytest.mark.parametrize("username", USERS)
def test_every_page_a_role_reaches_is_chinese(new_context: Any, username: str):
    page = new_context().new_page()
    login(page, username)
    leaks = walk(page)
    assert not leaks, f"{username} sees ASCII words: {leaks}"


def test_the_pages_before_login_are_chinese(page: Any):
    for path in ("/login", "/register", "/no-such-page"):
        page.goto(path)
        leaks = walk(page, start=path, limit=1)
        assert not leaks, leaks


def test_a_resident_sees_who_viewed_their_data_as_role_and_office(new_context: Any):
    page = new_context().new_page()
    login(page, "resident3")
    page.goto("/me/access-log")
    text = page.inner_text("main")
    assert "防控办工作人员 · 南明区" in text  # official_nm approved and revoked the pass
    assert "official_nm" not in text and "system" not in text
    page.goto("/passes/mine")
    follow(page, "main a[href^='/passes/0']")
    history = page.inner_text("main")
    assert "防控办工作人员 · 南明区" in history and "official_nm" not in history


def test_the_admin_pages_name_roles_and_keep_login_names_in_their_field(new_context: Any):
    page = new_context().new_page()
    login(page, "admin")
    page.goto("/admin/users?q=official_nm")
    row = page.locator("table tbody tr", has_text="official_nm")
    assert row.locator("td.login").inner_text() == "official_nm"  # the 登录名 column
    roles = row.locator("td").nth(2).inner_text()
    assert "防控办工作人员 · 行政区划" in roles and "official" not in roles
    with page.expect_navigation():
        row.locator("a").first.click()
    assert "登录名" in page.inner_text("main") and page.inner_text("#login-name") == "official_nm"
    options = page.locator("select[name=role] option").all_inner_texts()
    assert "社区管理员" in options and "community_manager" not in options


@pytest.mark.parametrize("username", ["official_nm", "official_gy"])
def test_the_command_dashboard_is_chinese(new_context: Any, username: str):
    page = new_context().new_page()
    login(page, username)
    for path in ("/dashboard", "/dashboard?area=520102"):
        leaks = walk(page, start=path, limit=1)
        assert not leaks, f"{username} sees ASCII words on {path}: {leaks}"
