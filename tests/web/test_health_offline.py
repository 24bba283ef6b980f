"""A person turned red is denied at an offline checkpoint once the device has synced the
signed status list; their phone shows red with the reason (both databases)."""

from __future__ import annotations

import json
import uuid
from typing import Any

import pytest
from sqlalchemy import select

from passtrace.accounts.models import User
from passtrace.core.db import session_scope
from passtrace.health import service as health
from tests.web.checkpoint_helpers import CHECKPOINT_URL, open_checkpoint
from tests.web.conftest import LiveServer, demo_approved_pass, login

pytestmark = pytest.mark.browser

STATUSES = """() => JSON.parse(localStorage.getItem('passtrace.checkpoint.trust') || '{}')
                     .statuses || {}"""


def _resident_person(server: LiveServer) -> uuid.UUID:
    for session in session_scope(server.rt.sessions):
        person_id = session.scalar(select(User.person_id).where(User.username == "resident"))
    assert person_id is not None
    return person_id


def _scan(page: Any, token: str) -> None:
    page.fill("#wedge", token)
    page.press("#wedge", "Enter")


def test_a_red_person_is_denied_offline_after_sync_and_sees_why(
        new_context: Any, live_server: LiveServer) -> None:
    the_pass = demo_approved_pass(live_server)
    person_id = _resident_person(live_server)
    key = f"browser-test:{uuid.uuid4().hex}"
    context = new_context()
    page = context.new_page()
    open_checkpoint(page)  # synced while the resident is green
    assert the_pass["id"] not in page.evaluate(STATUSES)
    try:
        for session in session_scope(live_server.rt.sessions, write=True):
            health.raise_flag(session=session, person_id=person_id, level="red",
                              source="close_contact", reason="close_contact",
                              evidence={"case": "test"}, until=None, dedupe_key=key)
        # The device's next sync (here: the page opened again while online).
        page.goto(CHECKPOINT_URL)
        page.wait_for_selector("body[data-checkpoint-ready='true']")
        page.wait_for_function(f"() => ({STATUSES})()[{json.dumps(the_pass['id'])}] === 'red'")
        context.set_offline(True)
        page.wait_for_function("() => !navigator.onLine")
        _scan(page, the_pass["token"])
        page.wait_for_selector("#result[data-decision='deny']")
        reasons = page.evaluate("() => JSON.parse(document.getElementById("
                                "'checkpoint-config').textContent).reasons")
        assert page.get_attribute("#result", "data-source") == "device"
        assert page.inner_text("#first-reason") == reasons["status_red"]
        context.set_offline(False)

        phone = new_context(viewport={"width": 390, "height": 844}).new_page()
        login(phone, "resident")
        phone.goto("/health/me")
        assert phone.get_attribute("#status", "data-status") == "red"
        assert phone.inner_text("#status-label") == "红码"
        assert "您是病例的密切接触者。" in phone.inner_text("#why")
        assert phone.locator("#status-qr svg").count() == 1
    finally:
        for session in session_scope(live_server.rt.sessions, write=True):
            health.clear_flag(session=session, dedupe_key=key, actor=None, reason="test_over")
