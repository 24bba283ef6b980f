"""HR imports a staff list in the browser: sees the row-by-row report, then the new staff."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from passtrace.demo import demo_id_number
from tests.web.conftest import LiveServer, follow, login

pytestmark = pytest.mark.browser


def _csv(*rows: tuple[str, ...]) -> bytes:
    lines = ["部门,姓名,身份证号,手机号,工号", *(",".join(r) for r in rows)]
    return "\n".join(lines).encode("utf-8")


def test_hr_imports_a_staff_list(new_context: Callable[..., Any], live_server: LiveServer,
                                 shot: Callable[..., Any]) -> None:
    page = new_context().new_page()
    login(page, "enterprise")
    follow(page, "#tile-enterprise")
    assert page.locator("#staff").count() == 1
    assert "贵阳黔筑建设工程有限公司" in page.inner_text("h1")
    follow(page, "#nav-import")
    good = ("工程部", "欧阳明", demo_id_number("520103", "19950505", "777"), "13900007777",
            "T90001")
    bad = ("后勤部", "孙七", demo_id_number("520103", "19950506", "778"), "", "T90002")
    typo = ("工程部", "钱八", demo_id_number("520103", "19950507", "779")[:-1] + "0", "",
            "T90003")
    page.set_input_files("#file", files=[{"name": "staff.csv", "mimeType": "text/csv",
                                          "buffer": _csv(good, bad, typo)}])
    with page.expect_navigation():
        page.click("#import-submit")
    assert page.is_visible("#import-refused")  # nothing imported: two rows need fixing
    problems = page.inner_text("#import-problems")
    assert "后勤部" in problems and "3" in problems and "4" in problems
    shot(page, "enterprise-import-report")

    page.check("input[name=partial]")
    page.set_input_files("#file", files=[{"name": "staff.csv", "mimeType": "text/csv",
                                          "buffer": _csv(good, bad, typo)}])
    with page.expect_navigation():
        page.click("#import-submit")
    assert "1" in page.inner_text("#import-done")
    follow(page, "nav.subnav a:first-child")
    assert page.locator("#staff").count() == 1
    # The list pages 50 at a time: find the new employee by number, as HR would.
    page.fill("#staff-q", "T90001")
    with page.expect_navigation():
        page.press("#staff-q", "Enter")
    row = page.locator("#staff tr", has_text="T90001")
    assert row.count() == 1
    text = row.inner_text()
    # HR sees the name its own staff list gave; the ID number stays masked.
    assert "欧阳明" in text
    assert "520103" in text and "0777" not in text[:6]
    shot(page, "enterprise-staff")
