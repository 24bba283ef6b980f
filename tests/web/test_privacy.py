"""Sign-up, an audited reveal, and 'who viewed my data' in a real browser."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

import pytest

from passtrace.demo import demo_id_number
from tests.web.conftest import LiveServer, demo_approved_pass, login

pytestmark = pytest.mark.browser


def sign_up(page: Any, id_number: str, phone: str = "") -> None:
    """Fill in and submit the sign-up form as 赵六 with a fresh username."""
    page.goto("/register")
    page.fill("#name", "赵六")
    page.fill("#id_number", id_number)
    page.fill("#phone", phone)
    page.fill("#username", f"zhaoliu{uuid.uuid4().hex[:8]}")
    page.fill("#password", "long-enough-1")
    with page.expect_navigation():
        page.click("form[action='/register'] button[type=submit]")


def test_signing_up_without_a_code_explains_how_to_link_the_id_number(page: Any) -> None:
    tag = uuid.uuid4().int % 1000
    sign_up(page, demo_id_number("520115", "19950505", f"{tag:03d}"), phone="13985011111")
    # Not linked by the ID number alone: the page says how (a claim code, in person).
    assert page.url.endswith("/me/bind")
    assert "认领码" in page.inner_text("#bind-how")
    page.goto("/passes/mine")
    assert page.locator(".pass-card").count() == 0


def test_it_flags_a_mistyped_id_number_in_place(page: Any) -> None:
    sign_up(page, "520115199505050000")
    assert page.url.endswith("/register")
    assert "校验" in page.inner_text(".field-error")  # the check-digit message, in Chinese


def test_a_reveal_needs_a_reason_and_the_resident_sees_who_looked(
        new_context: Callable[..., Any], live_server: LiveServer) -> None:
    pass_id = demo_approved_pass(live_server)["id"]
    official = new_context().new_page()
    login(official, "official_nm")
    official.goto(f"/passes/{pass_id}")
    official.click("text=查看完整身份证号")
    reason = f"核对身份证件 {uuid.uuid4().hex[:6]}"
    official.select_option("#reveal-purpose", "identity_check")
    official.fill("#reveal-reason", reason)
    with official.expect_navigation():
        official.click("form[action$='/reveal'] button[type=submit]")
    value = official.inner_text("#revealed-value").strip()
    assert len(value) == 18 and "*" not in value

    resident = new_context().new_page()
    login(resident, "resident")
    resident.goto("/me/access-log")
    log = resident.inner_text("table")
    # Who looked, as a role and office: never a login name.
    assert reason in log and "防控办工作人员 · 南明区" in log and "official_nm" not in log
    assert value not in resident.content()  # the log says who and why, not the value
