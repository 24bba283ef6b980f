"""The community gate's direction buttons on a phone: every label inside its button."""

from __future__ import annotations

from typing import Any

import pytest

from tests.web.conftest import login

pytestmark = pytest.mark.browser


@pytest.mark.parametrize("locale", ["zh-CN", "en"])
def test_the_four_direction_buttons_hold_their_labels_on_a_phone(new_context: Any,
                                                                 locale: str) -> None:
    page = new_context(viewport={"width": 360, "height": 800}, is_mobile=True,
                       has_touch=True, locale=locale).new_page()
    login(page, "gate")
    page.goto("/checkpoint")
    page.wait_for_selector(".cp-direction button[data-direction='auto']")
    buttons = page.evaluate("""() => Array.from(document.querySelectorAll('.cp-direction button'))
        .map(b => ({label: b.innerText, text: b.scrollWidth, box: b.clientWidth,
                    top: Math.round(b.getBoundingClientRect().top)}))""")
    assert len(buttons) == 4
    spilled = [b["label"] for b in buttons if b["text"] > b["box"]]
    assert not spilled, f"labels wider than their buttons: {spilled}"  # 按人员状态 was
    rows = sorted({b["top"] for b in buttons})
    assert len(rows) == 2 and all(sum(b["top"] == r for b in buttons) == 2 for r in rows)
