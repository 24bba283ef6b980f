"""The supplies journey in a real browser, on the demo data (both databases).

A checkpoint asks for masks; the officer previews the allocation of Nanming's warehouse
under shortage and commits it (the warehouse ships: transfers leave); the checkpoint
receives its transfer and issues to its guards; the warnings run finds the checkpoint
still short, and Nanming's district official sees the supply-shortage alert.
"""

from __future__ import annotations

from typing import Any

from passtrace.warnings import service as warnings_service
from tests.web.conftest import LiveServer, follow, login

MASKS = "医用外科口罩"
CHECKPOINT = "花果园大道卡口物资点"
SUBJECT = f"{CHECKPOINT} · {MASKS}"


def _request_masks(page: Any) -> None:
    login(page, "depot_cp")
    follow(page, "#tile-depot")  # one depot: straight to it
    assert page.locator("#depot-actions").count() == 1
    _fits_a_phone(page)
    assert CHECKPOINT in page.inner_text("main h1")
    follow(page, "#action-request")
    page.select_option("#item_id", label=MASKS)
    page.fill("#quantity", "2000")
    page.select_option("#priority", "critical")
    page.fill("#justification", "夜间加岗，口罩消耗翻倍")
    with page.expect_navigation():
        page.click("#request-form button[type=submit]")
    assert "/supplies/requests/" in page.url
    assert "等待" in page.inner_text("#request-state")  # waiting for a decision


def _allocate_under_shortage(page: Any) -> None:
    login(page, "supplies")
    page.goto("/supplies/allocation")
    page.select_option("#warehouse", label="南明区物资储备库")
    page.select_option("#item", label=MASKS)
    with page.expect_navigation():
        page.click("#preview-allocation")
    summary = page.inner_text("#allocation-summary")
    assert "1500" in summary and "短缺" in summary  # more asked than the warehouse holds
    row = page.locator("#allocation-plan tbody tr", has_text=CHECKPOINT).filter(
        has_text="紧急")
    # Critical requests: 2000 (ours) and the community's 1000 share 1500 in proportion.
    assert row.locator("td.share").inner_text() == "1000"
    with page.expect_navigation():
        page.click("#commit-allocation")
    assert page.is_visible("#done-message")


PHONE = {"width": 390, "height": 844}
# Every button, link-button and field a thumb must hit, and whether the page fits the phone.
TARGETS = """() => ({
  small: [...document.querySelectorAll(
      'main button, main a.button, main input:not([type=hidden]), main select')]
    .filter(e => e.checkVisibility()).map(e => e.getBoundingClientRect())
    .filter(r => r.height < 44).length,
  overflow: document.scrollingElement.scrollWidth > window.innerWidth})"""


def _fits_a_phone(page: Any) -> None:
    # After a click the form can be in the DOM before the stylesheet has loaded; measured
    # then, fields have the browser's default height (a full run saw 3 "small" fields).
    page.wait_for_load_state("load")
    assert page.evaluate(TARGETS) == {"small": 0, "overflow": False}, page.url


def _receive_and_issue(page: Any) -> None:
    login(page, "depot_cp")
    page.goto("/supplies/depots")
    incoming = page.locator("#incoming tbody tr", has_text=MASKS)
    assert "1000" in incoming.inner_text()
    with page.expect_navigation():
        incoming.locator("a").click()
    assert page.locator("#receive-transfer-form").count() == 1
    _fits_a_phone(page)
    assert page.input_value("#received_quantity") == "1000"  # what was sent, prefilled
    with page.expect_navigation():
        page.click("#receive-transfer-form button[type=submit]")
    assert page.is_visible("#done-message")
    follow(page, "#action-issue")
    page.select_option("#item_id", label=MASKS)
    page.fill("#quantity", "200")
    page.fill("#consumer", "夜班值守人员")
    with page.expect_navigation():
        page.click("#preview-issue")
    assert page.locator("#issue-picks tbody tr").count() >= 1  # the lots, before confirming
    _fits_a_phone(page)
    with page.expect_navigation():
        page.click("#confirm-issue")
    assert page.is_visible("#done-message")


def test_checkpoint_requests_officer_allocates_checkpoint_receives_district_alerted(
        new_context: Any, live_server: LiveServer):
    _request_masks(new_context(viewport=PHONE).new_page())
    _allocate_under_shortage(new_context().new_page())
    _receive_and_issue(new_context(viewport=PHONE).new_page())  # depot staff: a phone

    # The job runner's warnings run (registered in jobs/schedule.py), here in-process.
    with live_server.rt.sessions() as s:
        warnings_service.run(session=s, settings=live_server.rt.settings)
        s.commit()
    page = new_context().new_page()
    login(page, "official_nm")
    page.goto("/warnings/alerts")
    row = page.locator("#alert-list tbody tr", has_text=SUBJECT)
    assert row.count() == 1
    assert "物资短缺" in row.inner_text() or "短缺" in row.inner_text()
    # Yunyan's official is not told about Nanming's shelves.
    other = new_context().new_page()
    login(other, "official_yy")
    other.goto("/warnings/alerts")
    assert other.locator("#alert-list tbody tr", has_text=SUBJECT).count() == 0
