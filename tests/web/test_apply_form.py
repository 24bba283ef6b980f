"""The pass application form re-shows bad input with messages and saves nothing."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlparse
from zoneinfo import ZoneInfo

import pytest

from tests.web.conftest import login

pytestmark = pytest.mark.browser

LOCAL = "%Y-%m-%dT%H:%M"


def _count_my_passes(page: Any) -> int:
    page.goto("/passes/mine")
    return page.locator(".pass-card").count()


def test_it_rejects_an_end_before_the_start_and_creates_nothing(page: Any, shot: Any) -> None:
    login(page, "resident")
    before = _count_my_passes(page)
    start = (datetime.now(ZoneInfo("Asia/Shanghai")) + timedelta(days=1)).replace(
        hour=10, minute=0, second=0, microsecond=0)

    page.goto("/passes/apply")
    page.select_option("#purpose", "commute")
    page.fill("#valid_from", start.strftime(LOCAL))
    page.fill("#valid_until", (start - timedelta(hours=2)).strftime(LOCAL))
    page.select_option("#areas", "520102006")
    with page.expect_navigation() as nav:
        page.click("#apply-form button[type=submit]")

    assert nav.value.status == 422
    assert urlparse(page.url).path == "/passes/apply"
    error = page.locator("#valid_until ~ .field-error")
    assert error.is_visible()
    assert error.inner_text().strip()
    # What the resident typed is still there to correct.
    assert page.input_value("#valid_from") == start.strftime(LOCAL)
    assert page.eval_on_selector("#areas", "s => [...s.selectedOptions].map(o => o.value)") == [
        "520102006"]
    shot(page, "apply-end-before-start", full_page=True)
    assert _count_my_passes(page) == before
