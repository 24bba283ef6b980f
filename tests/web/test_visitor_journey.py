"""A visitor's day in real Chromium: invited, approved, scanned in and out at the gate.

The resident invites on /community/visits, the manager approves on the compound's
visitor page, the resident's page shows the visitor pass as a QR code (read back
from the screenshot with zxing-cpp), and a second Chromium whose fake camera shows
that QR code scans it at the gate page, once coming in and once leaving; the
manager's page follows the visitor from "approved" to "inside" to "left".
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from passtrace.demo import demo_id_number
from tests.web.checkpoint_helpers import camera_showing
from tests.web.conftest import (
    LiveServer,
    login,
    qr_image_state,
    read_qr,
)

pytestmark = pytest.mark.browser

CODE = "520102006001"  # 花果园第一社区, where the demo resident 张三 lives
GATE = "GATE-HGY1-N"
VISIT_PATH = re.compile(r"/community/visits/([0-9a-f-]{36})$")


def _invite(page: Any, shot: Any) -> str:
    """As the resident: invite a visitor for today, first with a typo in the ID number."""
    login(page, "resident")
    page.goto("/community/visits")
    good_id = demo_id_number("520103", "19920202", "731")
    page.fill("#name", "吴访客")
    page.fill("#id_number", good_id[:-1] + ("0" if good_id[-1] != "0" else "1"))
    page.fill("#phone", "13912345678")
    page.fill("#purpose", "探望父母")
    with page.expect_navigation() as nav:
        page.click("#invite-button")
    assert nav.value.status == 422
    assert page.locator("#error-id_number").is_visible()
    assert page.input_value("#name") == "吴访客"  # nothing typed is lost
    shot(page, "visitor-form-error", full_page=True)
    page.fill("#id_number", good_id)
    with page.expect_navigation() as nav:
        page.click("#invite-button")
    assert nav.value.status == 200, page.content()
    match = VISIT_PATH.search(page.url)
    assert match, f"inviting should land on the new visit, got {page.url}"
    assert page.get_attribute("#visit-stage", "data-stage") == "pending"
    assert page.locator("#visit-qr").count() == 0
    assert "吴访客" not in page.inner_text("main")  # shown masked: 吴**
    return match.group(1)


def _stage(page: Any, visit_id: str) -> str:
    """The visitor's stage on the manager's page, freshly loaded."""
    page.goto(f"/communities/{CODE}/visits")
    row = f"tr[data-visit-id='{visit_id}']"
    page.wait_for_selector(row)
    return str(page.get_attribute(row, "data-stage"))


def _scan(gate: Any, direction: str) -> None:
    """Choose the direction, show the pass to the camera and wait for a fresh ALLOW."""
    gate.click(f"[data-direction='{direction}']")
    gate.click("#camera-button")
    gate.wait_for_selector("#result[data-decision]:not([hidden])")
    assert gate.get_attribute("#result", "data-decision") == "allow", gate.inner_text("#result")
    assert gate.get_attribute("#result", "data-source") == "server"
    gate.click("#camera-stop")


def test_a_visitor_is_invited_approved_and_scanned_in_and_out(
        browser: Any, new_context: Any, live_server: LiveServer, shot: Any,
        tmp_path: Path) -> None:
    resident = new_context(device_scale_factor=2, viewport={"width": 390, "height": 844},
                           is_mobile=True).new_page()
    visit_id = _invite(resident, shot)
    shot(resident, "visitor-invited", full_page=True)

    manager = new_context().new_page()
    login(manager, "community")
    assert _stage(manager, visit_id) == "pending"
    row = f"tr[data-visit-id='{visit_id}']"
    assert "吴**" in manager.inner_text(row)
    with manager.expect_navigation() as nav:
        manager.click(f"{row} #approve-{visit_id}")
    assert nav.value.status == 200
    assert manager.get_attribute(row, "data-stage") == "approved"

    resident.reload()
    assert resident.get_attribute("#visit-stage", "data-stage") == "approved"
    assert resident.inner_text("#visit-stage") == "已批准"
    qr = qr_image_state(resident, "#visit-qr")
    assert qr["loaded"], f"the visitor QR did not load from {qr['src']}"
    assert qr["width"] >= 300, "the QR must be big enough to scan from the phone screen"
    texts = read_qr(resident, "#visit-qr")
    assert len(texts) == 1 and texts[0].startswith("PT1:"), texts
    token = texts[0]
    assert resident.eval_on_selector("#visit-token", "el => el.value") == token
    shot(resident, "visitor-qr", full_page=True)
    printed = resident.context.new_page()
    printed.goto(f"/community/visits/{visit_id}/print")
    assert qr_image_state(printed, "#print-qr")["loaded"]
    printed.close()

    with camera_showing(browser, live_server, token, tmp_path / "visitor.y4m") as gate:
        login(gate, "gate")
        gate.goto(f"/checkpoint?site={GATE}")
        gate.wait_for_selector("body[data-checkpoint-ready='true']")
        gate.wait_for_selector("#trust-warning", state="hidden")
        _scan(gate, "in")
        assert gate.inner_text("#verdict") == "放行"
        assert gate.inner_text("#result-holder") == "吴**"
        assert "访客" in gate.inner_text("#result-notes")
        shot(gate, "visitor-gate-in")
        assert _stage(manager, visit_id) == "inside"
        assert "在小区内" in manager.inner_text(row)
        shot(manager, "visitor-manager-inside", full_page=True)

        gate.click("#next-button")
        _scan(gate, "out")
        shot(gate, "visitor-gate-out")

    assert _stage(manager, visit_id) == "left"
    resident.reload()
    assert resident.get_attribute("#visit-stage", "data-stage") == "left"
    assert resident.locator("#visit-qr").count() == 0  # used: nothing left to show
