"""What the guard sees and types at the checkpoint: the pass to compare, the ID keypad."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from passtrace.areas import service as area_service
from passtrace.core.db import session_scope
from passtrace.demo import demo_id_number
from tests.web.checkpoint_helpers import open_checkpoint
from tests.web.conftest import LiveServer, demo_approved_pass

pytestmark = pytest.mark.browser

RESIDENT_ID = demo_id_number("520102", "19900307", "013")


def _scan(page: Any, token: str) -> None:
    page.fill("#wedge", token)
    page.press("#wedge", "Enter")


def _expected_pass_lines(server: LiveServer, p: dict[str, Any]) -> dict[str, str]:
    codes = [a["code"] for a in p["areas"]]
    for session in session_scope(server.rt.sessions):
        names = area_service.names(session=session, codes=codes, locale="zh_CN")
    shanghai = ZoneInfo("Asia/Shanghai")

    def minute(text: str) -> str:
        return datetime.fromisoformat(text).astimezone(shanghai).strftime("%Y/%m/%d %H:%M")

    return {"plate": p["plate"], "companions": str(p.get("companions", 0)),
            "areas": "、".join(names[c] for c in codes),
            "from": minute(p["valid_from"]), "until": minute(p["valid_until"])}


@pytest.mark.parametrize("offline", [False, True], ids=["online", "offline"])
def test_the_verdict_shows_the_pass_the_guard_must_compare(
        new_context: Any, live_server: LiveServer, offline: bool) -> None:
    p = demo_approved_pass(live_server)
    want = _expected_pass_lines(live_server, p)
    context = new_context()
    page = context.new_page()
    open_checkpoint(page)
    if offline:
        context.set_offline(True)
        page.wait_for_function("() => !navigator.onLine")
    _scan(page, p["token"])
    page.wait_for_selector("#result[data-decision='allow']")
    assert page.get_attribute("#result", "data-source") == ("device" if offline else "server")
    assert page.is_visible("#result-pass")
    assert page.inner_text("#result-holder") == "张*"
    assert page.inner_text("#result-last4") == RESIDENT_ID[-4:]
    assert page.inner_text("#pass-plate") == want["plate"]
    assert page.inner_text("#pass-companions") == want["companions"]
    # Area names, never their codes.
    assert page.inner_text("#pass-areas") == want["areas"]
    assert not any(ch.isdigit() for ch in want["areas"])
    valid = page.inner_text("#pass-valid")
    assert want["from"] in valid and want["until"] in valid, valid


def test_the_id_field_opens_a_numeric_keypad_with_an_x_key(new_context: Any) -> None:
    page = new_context().new_page()
    open_checkpoint(page)
    field = page.locator("#id-number")
    assert field.get_attribute("inputmode") == "numeric"
    pattern = field.get_attribute("pattern")
    assert page.evaluate("([p, v]) => new RegExp('^(?:' + p + ')$').test(v)",
                         [pattern, "52010219900307013X"])
    assert not page.evaluate("([p, v]) => new RegExp('^(?:' + p + ')$').test(v)",
                             [pattern, "5201021990030701AB"])
    # A number ending in X is typed on the keypad, then the X key.
    from passtrace.core.validators import id_check_char

    first17 = next(f"52010219900307{n:03d}" for n in range(1000)
                   if id_check_char(f"52010219900307{n:03d}") == "X")
    field.click()
    page.keyboard.type(first17)
    page.click("#id-x")
    assert field.input_value() == first17 + "X"
    assert page.get_attribute("#id-feedback", "data-valid") == "true"


@pytest.mark.parametrize("target", ["#id-number", "#wedge"])
def test_an_id_card_reader_typing_like_a_keyboard_checks_the_person(
        new_context: Any, target: str) -> None:
    page = new_context().new_page()
    open_checkpoint(page)
    page.click(target)
    # A reader types the whole number within a few milliseconds a key, then Enter.
    page.keyboard.type(RESIDENT_ID, delay=5)
    page.keyboard.press("Enter")
    page.wait_for_selector("#result[data-decision='allow']")
    assert page.inner_text("#result-holder") == "张*"
    assert page.inner_text("#result-last4") == RESIDENT_ID[-4:]
    assert page.input_value(target) == ""


def test_offline_a_typed_id_asks_for_an_eye_check_and_the_server_decides(
        new_context: Any, live_server: LiveServer) -> None:
    context = new_context()
    page = context.new_page()
    open_checkpoint(page)
    context.set_offline(True)
    page.wait_for_function("() => !navigator.onLine")
    page.fill("#id-number", RESIDENT_ID)
    page.click("#id-form button[type=submit]")
    page.wait_for_selector("#result[data-decision='check']")
    text = page.evaluate("() => JSON.parse(document.getElementById('checkpoint-config')"
                         ".textContent).text")
    reasons = page.evaluate("() => JSON.parse(document.getElementById('checkpoint-config')"
                            ".textContent).reasons")
    shown = page.inner_text("#result")
    assert reasons["unknown_person"] not in shown, "a real pass holder is not 'no such person'"
    assert page.inner_text("#verdict") == text["check"]
    assert page.inner_text("#first-reason") == text["offline_id_check"]
    assert page.inner_text("#result-note") == text["offline_id_queued"]
    assert page.inner_text("#queue-length") == "1"
    [queued] = page.evaluate("""async () => {
      const db = await new Promise((ok, bad) => {
        const r = indexedDB.open("passtrace-checkpoint"); r.onsuccess = () => ok(r.result);
        r.onerror = () => bad(r.error); });
      return await new Promise((ok) => {
        const r = db.transaction("queue").objectStore("queue").getAll();
        r.onsuccess = () => ok(r.result); });
    }""")
    assert queued["id_number"] == RESIDENT_ID and queued["method"] == "id_typed"
    # Back online the row is uploaded and the server, which knows the person and the
    # pass, decides: a real pass holder was let in.
    context.set_offline(False)
    page.wait_for_selector("#queue-length:text-is('0')")
    from passtrace.registrations.models import Registration

    for session in session_scope(live_server.rt.sessions):
        stored = session.get(Registration, uuid.UUID(queued["id"]))
        assert stored is not None and stored.decision == "allow", stored and stored.reasons
        assert (stored.device_decision, stored.device_reasons) == ("deny", ["unknown_person"])
        assert stored.disagreement is None and stored.pass_id is not None
        assert stored.person_masked == "张*"


def test_at_a_compound_gate_the_direction_follows_the_person_and_the_guard_confirms(
        new_context: Any, live_server: LiveServer) -> None:
    from sqlalchemy import select

    from passtrace.registrations.models import Registration
    from tests.web.conftest import login

    page = new_context().new_page()
    login(page, "gate")
    page.goto("/checkpoint?site=GATE-HGY1-N")
    page.wait_for_selector("body[data-checkpoint-ready='true']")
    page.wait_for_load_state("networkidle")
    text = page.evaluate("() => JSON.parse(document.getElementById('checkpoint-config')"
                         ".textContent).text")
    assert page.get_attribute("[data-direction=auto]", "aria-pressed") == "true"
    page.fill("#id-number", RESIDENT_ID)
    page.click("#id-form button[type=submit]")
    page.wait_for_selector("#result:not([hidden])")
    assert page.get_attribute("#result", "data-source") == "server"
    for session in session_scope(live_server.rt.sessions):
        stored = session.scalars(select(Registration).where(
            Registration.device_key.like("web-%")).order_by(
            Registration.received_at.desc())).first()
        assert stored is not None and stored.direction in ("in", "out")
        went = stored.direction
    assert page.inner_text("#result-direction") == text[f"went_{went}"]
    # An exception: the guard picks the other way by hand, for this person only.
    page.click("#next-button")
    other = "in" if went == "out" else "out"
    page.click(f"[data-direction={other}]")
    page.fill("#id-number", RESIDENT_ID)
    page.click("#id-form button[type=submit]")
    page.wait_for_selector(f"#result-direction:text-is('{text['went_' + other]}')")
    assert page.get_attribute("[data-direction=auto]", "aria-pressed") == "true"
