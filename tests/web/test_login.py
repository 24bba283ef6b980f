"""Logging in through the browser form."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlparse

import pytest

from tests.web.conftest import login

pytestmark = pytest.mark.browser


def test_it_shows_a_translated_error_for_a_wrong_password(page: Any, shot: Any) -> None:
    response = login(page, "resident3", "not-the-password")

    assert response.status == 401
    assert urlparse(page.url).path == "/login"
    assert page.get_attribute("html", "lang") == "zh-CN"
    alert = page.locator(".flash[role=alert]")
    assert alert.is_visible()
    shot(page, "login-wrong-password")
    message = alert.inner_text().strip()
    assert "密码" in message, message  # zh_CN: "用户名或密码错误。"
    assert "password" not in message.lower(), message
    assert page.input_value("#username") == "resident3"
    assert page.input_value("#password") == ""
