"""The checkpoint reads a person's status code offline: verified with the synced pass
keys, a green code shows green; once the person is turned red and the device has synced,
the same older code shows red; a tampered code is refused (both databases)."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from sqlalchemy import select

from passtrace.accounts.models import User
from passtrace.core.db import session_scope
from passtrace.health import present
from passtrace.health import service as health
from passtrace.people.models import Person
from tests.health.conftest import tamper_status_code
from tests.web.checkpoint_helpers import CHECKPOINT_URL, open_checkpoint
from tests.web.conftest import LiveServer

pytestmark = pytest.mark.browser

PEOPLE = """() => Object.values(JSON.parse(localStorage.getItem('passtrace.checkpoint.trust')
                 || '{}').people || {})"""


def _resident_code(server: LiveServer) -> tuple[uuid.UUID, str]:
    """The resident's status code as their phone shows it now."""
    for session in session_scope(server.rt.sessions, write=True):
        person_id = session.scalar(select(User.person_id).where(User.username == "resident"))
        person = session.get(Person, person_id)
        assert person is not None
        code = present.status_read(session, server.rt, person, with_code=True).code
    assert code and code.startswith("ST1:")
    return person_id, code


def _scan(page: Any, text: str) -> dict[str, str]:
    page.evaluate("() => { document.getElementById('status-result').hidden = true; }")
    page.fill("#wedge", text)
    page.press("#wedge", "Enter")
    page.wait_for_selector("#status-result:not([hidden])")
    return {"level": page.get_attribute("#status-result", "data-level") or "",
            "source": page.get_attribute("#status-result", "data-source") or "",
            "verdict": page.inner_text("#status-level"),
            "message": page.inner_text("#status-message"),
            "holder": page.inner_text("#status-holder")}


def test_an_older_green_code_reads_red_after_sync_and_a_forgery_is_refused(
        new_context: Any, live_server: LiveServer) -> None:
    person_id, code = _resident_code(live_server)
    key = f"browser-test:{uuid.uuid4().hex}"
    context = new_context()
    page = context.new_page()
    open_checkpoint(page)  # synced while the resident is green
    context.set_offline(True)
    page.wait_for_function("() => !navigator.onLine")
    green = _scan(page, code)
    assert green["level"] == "green" and green["source"] == "device"
    assert green["verdict"] == "绿码" and green["holder"].endswith("*")
    assert page.inner_text("#status-updated") and page.inner_text("#status-until")
    try:
        context.set_offline(False)
        for session in session_scope(live_server.rt.sessions, write=True):
            health.raise_flag(session=session, person_id=person_id, level="red",
                              source="close_contact", reason="close_contact",
                              evidence={"case": "test"}, until=None, dedupe_key=key)
        page.goto(CHECKPOINT_URL)  # the device's next sync
        page.wait_for_selector("body[data-checkpoint-ready='true']")
        page.wait_for_function(f"() => ({PEOPLE})().includes('red')")
        context.set_offline(True)
        page.wait_for_function("() => !navigator.onLine")
        red = _scan(page, code)
        assert red["level"] == "red" and red["source"] == "device"
        assert red["verdict"] == "红码"
        assert red["message"] == "此码生成后健康状态已变化：显示的是当前状态。"

        forged = _scan(page, tamper_status_code(code, n="王*"))
        assert forged["level"] == "refused"
        assert forged["message"] == "此健康码不是真的（签名无法验证）。"
        assert page.is_hidden("#status-details")

        context.set_offline(False)  # online the server says the same
        page.wait_for_function("() => navigator.onLine")
        online = _scan(page, code)
        assert online["level"] == "red" and online["source"] == "server"
        refused = _scan(page, tamper_status_code(code, s=3, n="王*"))
        assert refused["level"] == "refused" and refused["source"] == "server"
        assert refused["message"] == "此健康码不是真的（签名无法验证）。"
    finally:
        for session in session_scope(live_server.rt.sessions, write=True):
            health.clear_flag(session=session, dedupe_key=key, actor=None, reason="test_over")
