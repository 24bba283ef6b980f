"""Setting up the second factor in the browser (scanning its QR code), then logging in
with a code from the app."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any
from urllib.parse import parse_qs, urlparse

import pytest

from passtrace.accounts import service as account_service
from passtrace.codec.qr import decode_qr_image
from passtrace.core import clock
from passtrace.core.db import session_scope
from tests.accounts.second_factor_helpers import Clock, code_at
from tests.conftest import PASSWORD
from tests.web.conftest import LiveServer, login

pytestmark = pytest.mark.browser


@pytest.fixture
def frozen() -> Iterator[Clock]:
    yield Clock()  # the server runs in this process: it reads the same clock
    clock.freeze(None)


def _official(live_server: LiveServer) -> str:
    username = f"sf-{uuid.uuid4().hex[:8]}"
    rt = live_server.rt
    for session in session_scope(rt.sessions):
        user = account_service.create(session=session, rt=rt, actor=None, username=username,
                                      password=PASSWORD, display_name="区卫健局")
        account_service.grant(session=session, actor=None, user=user, role="official",
                              scope_type="area", scope_value="520102")
    return username


def test_an_official_sets_up_the_app_by_qr_code_and_logs_in_with_its_code(
        new_context: Any, live_server: LiveServer, frozen: Clock, shot: Any) -> None:
    username = _official(live_server)
    page = new_context().new_page()
    assert login(page, username, PASSWORD).status == 200
    page.goto("/account/second-factor")
    shot(page, "second-factor-setup")
    # What the phone's camera sees: the QR code holds the otpauth:// URI with the secret.
    texts = decode_qr_image(page.locator("#second-factor-qr").screenshot())
    assert len(texts) == 1 and texts[0].startswith("otpauth://totp/PassTrace:"), texts
    secret = parse_qs(urlparse(texts[0]).query)["secret"][0]
    typed = page.inner_text("#second-factor-secret")
    assert typed.replace(" ", "") == secret and len(typed.split()) > 4  # groups to type
    page.fill("#code", "000000")
    with page.expect_navigation() as nav:
        page.click("form[action='/account/second-factor'] button[type=submit]")
    assert nav.value.status == 422
    assert page.locator("small.error").is_visible()
    page.fill("#code", code_at(secret, frozen.now))
    with page.expect_navigation():
        page.click("form[action='/account/second-factor'] button[type=submit]")
    codes = page.locator("#recovery-codes code").all_inner_texts()
    assert len(codes) == 10
    assert page.locator("#second-factor-on").is_visible()

    # Next login, in a fresh browser: the password alone is not a login.
    frozen.tick()
    later = new_context().new_page()
    login(later, username, PASSWORD)
    assert urlparse(later.url).path == "/login/code"
    shot(later, "second-factor-login")
    assert later.goto("/account/second-factor").status in (200, 401)
    assert urlparse(later.url).path == "/login"  # not logged in: sent to the login page
    later.goto("/login/code")
    later.fill("#code", code_at(secret, frozen.now))
    with later.expect_navigation():
        later.click("form[action='/login/code'] button[type=submit]")
    assert urlparse(later.url).path == "/"
    later.goto("/account/second-factor")
    assert later.locator("#second-factor-on").is_visible()
