"""The checkpoint page offline: decide on the device, queue, upload each row exactly once."""

from __future__ import annotations

import uuid
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select

from passtrace.core.db import session_scope
from passtrace.registrations.models import Registration
from tests.web.checkpoint_helpers import SITE, forge, open_checkpoint
from tests.web.conftest import LiveServer, demo_approved_pass, login

pytestmark = pytest.mark.browser

QUEUED_IDS = """async () => {
  const db = await new Promise((ok, bad) => {
    const r = indexedDB.open("passtrace-checkpoint"); r.onsuccess = () => ok(r.result);
    r.onerror = () => bad(r.error); });
  return await new Promise((ok) => {
    const r = db.transaction("queue").objectStore("queue").getAllKeys();
    r.onsuccess = () => ok(r.result); });
}"""


def _scan(page: Any, token: str) -> None:
    page.fill("#wedge", token)
    page.press("#wedge", "Enter")


def test_twenty_offline_registrations_arrive_exactly_once(
        new_context: Any, live_server: LiveServer) -> None:
    token = demo_approved_pass(live_server)["token"]
    context = new_context()
    page = context.new_page()
    open_checkpoint(page)
    context.set_offline(True)
    page.wait_for_function("() => !navigator.onLine")
    for i in range(20):
        page.click(f"[data-direction={'in' if i % 2 == 0 else 'out'}]")
        _scan(page, token)
        page.wait_for_selector(f"#queue-length:text-is('{i + 1}')")
        result = page.locator("#result")
        assert result.get_attribute("data-decision") == "allow", page.inner_text("#result")
        assert result.get_attribute("data-source") == "device"
        assert page.inner_text("#result-holder") == "张*"
        page.click("#next-button")
    assert page.inner_text("#queue-length") == "20"
    ids = [uuid.UUID(x) for x in page.evaluate(QUEUED_IDS)]
    assert len(ids) == 20 and all(i.version == 7 for i in ids)
    assert ids == sorted(ids), "UUIDv7 keys keep the order the checks happened"

    context.set_offline(False)
    page.wait_for_selector("#queue-length:text-is('0')")
    assert page.inner_text("#last-sync") != page.evaluate("() => JSON.parse("
                                                          "document.getElementById("
                                                          "'checkpoint-config').textContent)"
                                                          ".text.never")
    for session in session_scope(live_server.rt.sessions):
        rows = session.scalars(select(Registration).where(Registration.id.in_(ids))).all()
        assert sorted(r.id for r in rows) == sorted(ids)
        assert [r.direction for r in sorted(rows, key=lambda r: r.id)] == ["in", "out"] * 10
        assert {r.decided_by for r in rows} == {"device"}
        assert all(r.decision == "allow" and r.person_hash for r in rows)
        # Judged again at upload (the pass text came with each row): the server agrees.
        assert {(r.device_decision, r.disagreement) for r in rows} == {("allow", None)}
        device = rows[0].device_key
        total = session.scalar(select(func.count()).select_from(Registration).where(
            Registration.device_key == device))
        assert total == 20, "each queued registration is stored exactly once"


def test_a_forged_pass_is_denied_offline(new_context: Any, live_server: LiveServer) -> None:
    token = demo_approved_pass(live_server)["token"]
    context = new_context()
    page = context.new_page()
    open_checkpoint(page)
    context.set_offline(True)
    page.wait_for_function("() => !navigator.onLine")
    _scan(page, forge(token))
    page.wait_for_selector("#result[data-decision='deny']")
    reasons = page.evaluate("() => JSON.parse(document.getElementById('checkpoint-config')"
                            ".textContent).reasons")
    assert page.inner_text("#first-reason") == reasons["bad_signature"]
    assert page.get_attribute("#result", "data-source") == "device"
    assert page.locator("#verdict").inner_text() == "禁止"
    # The genuine pass still verifies on the same device.
    page.click("#next-button")
    _scan(page, token)
    page.wait_for_selector("#result[data-decision='allow']")
    # Back online, the refusal is on record too: a forged pass is evidence of misuse.
    ids = [uuid.UUID(i) for i in page.evaluate(QUEUED_IDS)]
    assert len(ids) == 2
    context.set_offline(False)
    page.wait_for_selector("#queue-length:text-is('0')")
    for session in session_scope(live_server.rt.sessions):
        rows = {r.decision: r for r in session.scalars(
            select(Registration).where(Registration.id.in_(ids)))}
        assert rows["deny"].reasons == ["bad_signature"] and rows["deny"].pass_id is None
        assert rows["deny"].device_reasons == ["bad_signature"]
        assert rows["allow"].pass_id is not None


def test_an_offline_deny_can_be_overridden_and_uploads_as_allowed(
        new_context: Any, live_server: LiveServer) -> None:
    token = demo_approved_pass(live_server)["token"]
    context = new_context()
    page = context.new_page()
    open_checkpoint(page)
    context.set_offline(True)
    page.wait_for_function("() => !navigator.onLine")
    page.click("[data-direction=through]")
    page.fill("#temperature", "38.2")
    _scan(page, token)
    page.wait_for_selector("#result[data-decision='deny']")
    reasons = page.evaluate("() => JSON.parse(document.getElementById('checkpoint-config')"
                            ".textContent).reasons")
    assert page.inner_text("#first-reason") == reasons["fever"]
    [rid] = page.evaluate(QUEUED_IDS)
    page.click("#override-button")
    page.fill("#override-reason", "复测 36.9 °C")
    page.click("#override-form button[type=submit]")
    page.wait_for_selector("#result[data-decision='allow']")
    context.set_offline(False)
    page.wait_for_selector("#queue-length:text-is('0')")
    for session in session_scope(live_server.rt.sessions):
        row = session.get(Registration, uuid.UUID(rid))
        assert row is not None and row.decision == "allow" and row.reasons == ["fever"]
        assert row.override_reason == "复测 36.9 °C" and row.temperature == 38.2


def test_the_id_number_field_checks_as_you_type(new_context: Any) -> None:
    from passtrace.core.validators import id_check_char

    page = new_context().new_page()
    open_checkpoint(page)
    first17 = "52010219900307001"
    good = first17 + id_check_char(first17)
    bad = first17 + ("0" if good[-1] != "0" else "1")
    page.fill("#id-number", bad)
    assert page.get_attribute("#id-feedback", "data-valid") == "false"
    text = page.evaluate("() => JSON.parse(document.getElementById('checkpoint-config')"
                         ".textContent).text")
    assert page.inner_text("#id-feedback") == text["id_check"]
    page.fill("#id-number", good[:10])
    assert page.inner_text("#id-feedback") == text["id_length"]
    page.fill("#id-number", good.lower())
    assert page.get_attribute("#id-feedback", "data-valid") == "true"


def test_the_page_reopens_offline_from_the_service_worker(new_context: Any) -> None:
    context = new_context()
    page = context.new_page()
    open_checkpoint(page)
    page.wait_for_function("async () => !!(await navigator.serviceWorker.ready).active")
    page.reload()  # now controlled by the worker, which keeps the page
    page.wait_for_selector("body[data-checkpoint-ready='true']")
    page.wait_for_function("() => !!navigator.serviceWorker.controller")
    context.set_offline(True)
    page.reload()
    page.wait_for_selector("body[data-checkpoint-ready='true']")
    assert page.is_hidden("#trust-warning"), "the trust list was kept on the device"
    assert page.inner_text("#net-state") == "离线"


def test_staff_choose_their_lane_and_get_the_thermal_reading(
        new_context: Any, live_server: LiveServer) -> None:
    official = {"Authorization": f"Bearer {live_server.api_token('official_nm')}"}
    device = httpx.post(f"{live_server.url}/api/v1/sites/{SITE}/devices", headers=official,
                        json={"name": "lane 2 thermal scanner", "lane": "2"}, timeout=10)
    assert device.status_code == 201, device.text
    reading = httpx.post(f"{live_server.url}/api/v1/devices/readings",
                         headers={"Authorization": f"Device {device.json()['token']}"},
                         json={"temperature": 36.6}, timeout=10)
    assert reading.status_code == 201, reading.text
    page = new_context().new_page()
    login(page, "checkpoint")
    page.goto("/checkpoint")  # one site, two lanes: choose the lane
    page.click("a[data-lane='2']")
    page.wait_for_selector("body[data-checkpoint-ready='true']")
    assert "lane=2" in page.url
    page.wait_for_function("() => document.getElementById('temperature').value === '36.6'")
    assert page.inner_text("#temperature-hint")


REFUSED_ROWS = """async () => {
  const db = await new Promise((ok, bad) => {
    const r = indexedDB.open("passtrace-checkpoint"); r.onsuccess = () => ok(r.result);
    r.onerror = () => bad(r.error); });
  return await new Promise((ok) => {
    const r = db.transaction("refused").objectStore("refused").getAll();
    r.onsuccess = () => ok(r.result); });
}"""

SPOIL_QUEUED = """async () => {
  // A clear name where the mask belongs: the server refuses this row (and only it).
  const db = await new Promise((ok, bad) => {
    const r = indexedDB.open("passtrace-checkpoint"); r.onsuccess = () => ok(r.result);
    r.onerror = () => bad(r.error); });
  const tx = db.transaction("queue", "readwrite");
  const store = tx.objectStore("queue");
  const rows = await new Promise((ok) => { const r = store.getAll();
                                           r.onsuccess = () => ok(r.result); });
  for (const row of rows) store.put({ ...row, holder: "张三丰",
                                      id_number: "520102199003070138" });
  await new Promise((ok) => { tx.oncomplete = ok; });
}"""


def test_a_refused_row_keeps_no_personal_data_on_the_device(
        new_context: Any, live_server: LiveServer) -> None:
    token = demo_approved_pass(live_server)["token"]
    context = new_context()
    page = context.new_page()
    open_checkpoint(page)
    context.set_offline(True)
    page.wait_for_function("() => !navigator.onLine")
    _scan(page, token)
    page.wait_for_selector("#queue-length:text-is('1')")
    [rid] = page.evaluate(QUEUED_IDS)
    page.evaluate(SPOIL_QUEUED)
    context.set_offline(False)
    page.wait_for_selector("#queue-length:text-is('0')")
    page.wait_for_selector("#refused", state="visible")
    [kept] = page.evaluate(REFUSED_ROWS)
    assert kept["id"] == rid and kept["error"]
    assert set(kept) == {"id", "site", "occurred_at", "error"}, kept
    assert "520102199003070138" not in str(kept) and "PT1:" not in str(kept)
