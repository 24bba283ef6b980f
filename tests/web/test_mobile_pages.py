"""Every role's main pages on 360 px and 390 px phones: what a thumb and an eye would notice.

For each page: no sideways scrolling, no button whose label wraps onto a second line,
every button, field and menu entry at least 44 px tall and wide (a tick box's label 44 px
tall), chart text at least 10 px on screen and no two x-axis labels overlapping. A
full-page screenshot of each is kept under tests/web/screens/ as the reference a person
looked at; refresh them with PASSTRACE_UPDATE_SCREENS=1 (SQLite run).
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from passtrace.demo import demo_id_number
from tests.web.checkpoint_helpers import open_checkpoint
from tests.web.conftest import SHOTS, LiveServer, demo_approved_pass, login

pytestmark = pytest.mark.browser

SCREENS = Path(__file__).parent / "screens"
WIDTHS = (360, 390)
HGY1 = "520102006001"

# What a phone shows that a thumb or an eye would trip over, measured in CSS pixels.
MEASURE = """() => {
  const shown = el => el.checkVisibility({visibilityProperty: true, opacityProperty: true})
                      && el.getBoundingClientRect().width > 0;
  const name = el => (el.id ? '#' + el.id : el.tagName.toLowerCase() + '.' + el.className)
      + ' "' + (el.innerText || el.value || el.getAttribute('aria-label') || '').trim()
      .slice(0, 24) + '"';
  const lines = el => {
    const tops = [];
    const walker = document.createTreeWalker(el, NodeFilter.SHOW_TEXT);
    while (walker.nextNode()) {
      if (!walker.currentNode.textContent.trim()) continue;
      const range = document.createRange();
      range.selectNodeContents(walker.currentNode);
      for (const r of range.getClientRects()) if (r.width > 0) tops.push(r.top);
    }
    const size = parseFloat(getComputedStyle(el).fontSize);
    return new Set(tops.map(t => Math.round(t / size))).size;
  };
  const out = {scroll: document.scrollingElement.scrollWidth, inner: window.innerWidth,
               wrapped: [], small: [], charts: [], overlaps: []};
  for (const el of document.querySelectorAll('button, a.button, input[type=submit]')) {
    if (shown(el) && lines(el) > 1) out.wrapped.push(name(el));
  }
  const targets = 'button, a.button, select, textarea, nav.site-nav a, '
      + 'input:not([type=hidden]):not([type=checkbox]):not([type=radio])';
  for (const el of document.querySelectorAll(targets)) {
    const box = el.getBoundingClientRect();
    if (shown(el) && Math.min(box.width, box.height) < 44)
      out.small.push(name(el) + ' ' + Math.round(box.width) + 'x' + Math.round(box.height));
  }
  // A tick box is tapped through its label: the label is the target.
  for (const el of document.querySelectorAll('label')) {
    if (!el.querySelector('input[type=checkbox], input[type=radio]')) continue;
    const box = el.getBoundingClientRect();
    if (shown(el) && box.height < 44)
      out.small.push(name(el) + ' ' + Math.round(box.width) + 'x' + Math.round(box.height));
  }
  for (const svg of document.querySelectorAll('svg.chart')) {
    if (!shown(svg)) continue;
    // The x axis labels (one row, y = 228 in the drawing) must not run into each other.
    const axis = [...svg.querySelectorAll('text')]
        .filter(t => t.getAttribute('y') === '228')
        .map(t => [t.getBoundingClientRect(), t.textContent])
        .sort((a, b) => a[0].left - b[0].left);
    for (let i = 1; i < axis.length; i++)
      if (axis[i][0].left < axis[i - 1][0].right - 1)
        out.overlaps.push(axis[i - 1][1] + ' / ' + axis[i][1]);
    const scale = svg.getBoundingClientRect().width / svg.viewBox.baseVal.width;
    const sizes = [...svg.querySelectorAll('text')].map(
        t => parseFloat(getComputedStyle(t).fontSize) * scale);
    out.charts.push(Math.min(...sizes));
  }
  return out;
}"""


def _case(page: Any, server: LiveServer) -> None:
    # The demo has no case yet: open one for the demo resident (or reuse it on a rerun).
    headers = {"Authorization": f"Bearer {server.api_token('official_nm')}"}
    made = httpx.post(f"{server.url}/api/v1/cases", headers=headers, timeout=10, json={
        "id_number": demo_id_number("520102", "19900307", "013"), "area_code": "520102",
        "classification": "confirmed", "source": "手机页面测试",
        "onset_date": (date.today() - timedelta(days=2)).isoformat()})
    if made.status_code == 201:
        case_id = made.json()["id"]
    else:
        listed = httpx.get(f"{server.url}/api/v1/cases", headers=headers, timeout=10).json()
        assert listed["items"], made.text
        case_id = listed["items"][0]["id"]
    page.goto(f"/cases/{case_id}")
    # The contacts section (its buttons among what is measured) comes by htmx after load.
    page.wait_for_selector("#contacts #chain-link")


def _verdict(page: Any, server: LiveServer) -> None:
    token = demo_approved_pass(server)["token"]
    page.fill("#wedge", token)
    page.press("#wedge", "Enter")
    page.wait_for_selector("#result[data-decision]")


# (reference name, login, how to get there: a path, or a function of the page and server)
PAGES: list[tuple[str, str, str | Callable[..., None]]] = [
    ("resident-home", "resident", "/"),
    ("pass-apply", "resident", "/passes/apply"),
    ("my-passes", "resident", "/passes/mine"),
    ("my-community", "resident", "/community"),
    ("daily-report", "resident", "/reports/today"),
    ("checkpoint-scan", "checkpoint", ""),
    ("checkpoint-verdict", "checkpoint", _verdict),
    ("manager-overview", "community", f"/communities/{HGY1}"),
    ("manager-households", "community", f"/communities/{HGY1}/households"),
    ("manager-visitors", "community", f"/communities/{HGY1}/visits"),
    ("hr-staff", "enterprise", "/enterprises"),
    ("official-queue", "official_nm", "/passes/review"),
    ("cases-list", "official_nm", "/cases"),
    ("case-page", "official_nm", _case),
    ("site-day", "official_nm", "/sites/CP-NM-01"),
    ("supplies-overview", "supplies", "/supplies"),
    ("supplies-cover", "supplies", "/supplies/cover"),
    ("depot-home", "depot_cp", "/supplies/depots"),
]


@pytest.mark.parametrize(("name", "username", "goto"), PAGES, ids=[p[0] for p in PAGES])
def test_main_page_fits_a_phone(new_context: Any, live_server: LiveServer, name: str,
                                username: str, goto: str | Callable[..., None]) -> None:
    context = new_context(viewport={"width": WIDTHS[-1], "height": 800}, is_mobile=True,
                          has_touch=True, device_scale_factor=1)
    page = context.new_page()
    if username == "checkpoint":
        open_checkpoint(page)
    else:
        login(page, username)
    if callable(goto):
        goto(page, live_server)
    elif goto:
        page.goto(goto)
    problems = {}
    for width in WIDTHS:
        page.set_viewport_size({"width": width, "height": 800})
        # Two animation frames: the resize has been laid out and painted (not a guessed delay).
        page.evaluate("() => new Promise(r => requestAnimationFrame(() => "
                      "requestAnimationFrame(r)))")
        m = page.evaluate(MEASURE)
        # A mobile browser widens its layout viewport to fit wide content (innerWidth
        # grows with it): compare with the phone's width, not with innerWidth.
        wide = max(m["scroll"], m["inner"])
        found = {"sideways scroll": wide > width and f"{wide} px",
                 "wrapped buttons": m["wrapped"], "small targets": m["small"],
                 "chart text under 10 px": [round(s, 1) for s in m["charts"] if s < 10],
                 "chart labels overlapping": m["overlaps"]}
        if any(found.values()):
            problems[width] = {k: v for k, v in found.items() if v}
        SHOTS.mkdir(parents=True, exist_ok=True)
        shot = SHOTS / f"{name}-{width}-{live_server.backend}.png"
        # The top of the page (up to three screens) is what a person looks at first.
        height = min(page.evaluate("document.scrollingElement.scrollHeight"), 2400)
        page.screenshot(path=str(shot), full_page=True,
                        clip={"x": 0, "y": 0, "width": width, "height": height})
        reference = SCREENS / f"{name}-{width}.png"
        if os.environ.get("PASSTRACE_UPDATE_SCREENS") and live_server.backend == "sqlite":
            shutil.copy(shot, reference)
        assert reference.exists(), f"no reference screenshot {reference.name}: look at {shot}"
    assert not problems, f"{name} ({page.url}) on a phone: {problems}"
