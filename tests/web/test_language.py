"""Switching the interface language in the browser."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlparse

import pytest

from tests.web.conftest import login

pytestmark = pytest.mark.browser


def test_it_switches_to_english_and_remembers_it(page: Any) -> None:
    login(page, "supplies")
    assert urlparse(page.url).path == "/"
    assert page.get_attribute("html", "lang") == "zh-CN"

    with page.expect_navigation():
        page.get_by_role("button", name="English").click()
    assert urlparse(page.url).path == "/"
    assert page.get_attribute("html", "lang") == "en"
    assert page.get_by_role("button", name="简体中文").is_visible()

    try:
        page.reload()
        assert page.get_attribute("html", "lang") == "en"
        assert page.get_by_role("button", name="English").count() == 0
    finally:
        # The demo server is shared: later tests expect this user in Chinese again.
        with page.expect_navigation():
            page.get_by_role("button", name="简体中文").click()
