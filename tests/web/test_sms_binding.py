"""Sign up, then link the ID number with a code texted through a real local SMS gateway."""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest

from passtrace.demo import demo_id_number
from passtrace.jobs.delivery import deliver_due
from passtrace.people import service as people_service
from tests.jobs.gateway import Gateway, free_port, with_gateways
from tests.web.conftest import LiveServer

pytestmark = pytest.mark.browser


@pytest.fixture
def sms_gateway(live_server: LiveServer) -> Iterator[Gateway]:
    """A local SMS gateway; the live server's outbox delivers to it for this test."""
    g = Gateway(port=free_port())
    g.start()
    before = live_server.rt.settings
    live_server.rt.settings = with_gateways(before, sms=g)
    yield g
    live_server.rt.settings = before
    g.stop()


def _resident_on_file(live_server: LiveServer) -> str:
    """A person a compound registered with a phone, no account yet; their ID number."""
    n = uuid.uuid4().int
    id_number = demo_id_number("520102", f"1977{1 + n % 12:02d}{1 + n % 28:02d}",
                               f"{n % 1000:03d}")
    with live_server.rt.sessions() as session:
        people_service.register(session=session, vault=live_server.rt.vault, actor=None,
                                id_number=id_number, name="孙丽", phone="13985017777",
                                source=("community", uuid.uuid4()))
        session.commit()
    return id_number


def test_sign_up_then_link_with_a_code_texted_to_the_phone_on_file(
        page: Any, live_server: LiveServer, sms_gateway: Gateway,
        shot: Callable[..., Any]) -> None:
    id_number = _resident_on_file(live_server)
    username = f"sunli{uuid.uuid4().hex[:8]}"
    page.goto("/register")
    page.fill("#name", "孙丽")
    page.fill("#id_number", id_number)
    page.fill("#username", username)
    page.fill("#password", "long-enough-1")
    with page.expect_navigation():
        page.click("form[action='/register'] button[type=submit]")
    assert page.url.endswith("/me/bind")

    page.fill("#sms_name", "孙丽")
    page.fill("#sms_id_number", id_number)
    with page.expect_navigation():
        page.click("#sms-request")
    assert "验证码已发送到登记的手机" in page.inner_text("#sms-message")
    assert "7777" not in page.content()  # no digits of the phone on file
    shot(page, "sms-bind-requested", full_page=True)

    # The job runner's outbox delivery sends the SMS to the gateway.
    assert deliver_due(live_server.rt).sent == 1
    [sms] = sms_gateway.received
    assert sms["phone"] == "13985017777"
    code = re.search(r"验证码是 (\d{6})，", sms["text"]).group(1)  # type: ignore[union-attr]

    page.fill("#sms_code", f"{(int(code) + 1) % 1_000_000:06d}")
    with page.expect_navigation():
        page.click("#sms-confirm")
    assert "验证码错误" in page.inner_text("#sms-message")
    page.fill("#sms_code", code)
    with page.expect_navigation():
        page.click("#sms-confirm")
    assert page.url.endswith("/passes/mine")
    token = live_server.api_token(username, "long-enough-1")
    me = httpx.get(f"{live_server.url}/api/v1/me", timeout=10,
                   headers={"Authorization": f"Bearer {token}"}).json()
    assert me["person_id"] is not None and me["display_name"] == "孙*"
