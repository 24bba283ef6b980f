"""Four eyes in the browser: official A finds the person, proposes red with a reason and
cannot approve it (no button; a forged POST is refused); official B of the same area
approves; the person's phone shows red, the reason and the trail (both databases)."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from sqlalchemy import select

from passtrace import demo
from passtrace.accounts import service as account_service
from passtrace.accounts.models import User
from passtrace.core.db import session_scope
from passtrace.health import service as health
from passtrace.health.models import StatusProposal
from passtrace.people.models import Person
from tests.web.conftest import LiveServer, login
from tests.web.zh_walk import VISIBLE_TEXT, leaked_words

pytestmark = pytest.mark.browser
REASON = "密接核实后需集中隔离"


def _resident(server: LiveServer) -> tuple[uuid.UUID, str]:
    """The demo resident's person id and ID number (as an official would type it)."""
    for session in session_scope(server.rt.sessions):
        person = session.scalars(select(Person).join(User, User.person_id == Person.id)
                                 .where(User.username == "resident")).one()
        return person.id, server.rt.vault.read(person, "id_enc")
    raise AssertionError("unreachable")


def _second_official(server: LiveServer) -> str:
    """Another official of 南明区 (520102), like official_nm."""
    username = f"second_nm_{uuid.uuid4().hex[:6]}"
    for session in session_scope(server.rt.sessions, write=True):
        user = account_service.create(session=session, rt=server.rt, actor=None,
                                      username=username, password=demo.DEMO_PASSWORD,
                                      display_name="南明区防控办复核人员")
        account_service.grant(session=session, actor=None, user=user, role="official",
                              scope_type="area", scope_value="520102")
    return username


def test_a_status_set_by_hand_needs_a_second_official(new_context: Any,
                                                      live_server: LiveServer) -> None:
    person_id, id_number = _resident(live_server)
    second = _second_official(live_server)
    a = new_context().new_page()
    login(a, "official_nm")
    a.goto("/health/queue")
    a.fill("#search-q", f"{id_number[:6]} {id_number[6:14]} {id_number[14:]}")
    with a.expect_navigation():
        a.click("#person-search button[type=submit]")
    assert not leaked_words(a.evaluate(VISIBLE_TEXT))
    with a.expect_navigation():
        a.click(f"#search-results a[href='/health/people/{person_id}']")
    a.select_option("#level", "red")
    a.fill("#reason", REASON)
    with a.expect_navigation():
        a.click("#propose")
    assert a.locator(".proposal[data-state='pending']", has_text=REASON).count() == 1
    for session in session_scope(live_server.rt.sessions):
        proposal_id = session.scalar(select(StatusProposal.id).where(
            StatusProposal.person_id == person_id, StatusProposal.reason == REASON,
            StatusProposal.state == "pending"))
    assert proposal_id is not None
    try:
        # A: no approve button for their own proposal, and a forged POST is refused.
        a.goto("/health/queue")
        assert a.locator(f"[data-proposal='{proposal_id}']").count() == 0
        csrf = a.get_attribute("#person-search input[name=csrf_token]", "value")
        forged = a.request.post(f"/health/proposals/{proposal_id}/decide",
                                form={"csrf_token": str(csrf), "decision": "approve",
                                      "note": ""}, max_redirects=0)
        assert forged.status >= 400
        for session in session_scope(live_server.rt.sessions):
            assert session.get(StatusProposal, proposal_id).state == "pending"  # type: ignore[union-attr]
            assert session.get(Person, person_id).status == "green"  # type: ignore[union-attr]

        # B approves.
        b = new_context().new_page()
        login(b, second)
        b.goto("/health/queue")
        row = b.locator(f"[data-proposal='{proposal_id}']")
        assert REASON in row.inner_text()
        with b.expect_navigation():
            row.locator("button[value=approve]").click()
        assert b.locator(f"[data-proposal='{proposal_id}']").count() == 0

        # The person's phone: red, the officials' reason, the trail.
        phone = new_context(viewport={"width": 390, "height": 844}).new_page()
        login(phone, "resident")
        phone.goto("/health/me")
        assert phone.get_attribute("#status", "data-status") == "red"
        assert phone.inner_text("#status-label") == "红码"
        assert REASON in phone.inner_text("#why")
        trail = phone.inner_text("#history")
        assert "绿码" in trail and "红码" in trail
    finally:
        for session in session_scope(live_server.rt.sessions, write=True):
            health.clear_flag(session=session, dedupe_key=f"manual:{proposal_id}",
                              actor=None, reason="test_over")
