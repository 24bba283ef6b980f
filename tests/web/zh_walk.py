"""Walk every page a user can reach from home and list the ASCII words a reader would see.

Used by test_zh_walk.py. What counts as allowed is explicit: numbers, codes the user types
(site codes, plates, ID tails: anything with a digit), single letters (building units, the
ID card's X), brands and file formats, and text inside `translate="no"` (a login name an
official types to add staff).
"""

from __future__ import annotations

import re
from typing import Any

# Brands, file formats and key names a Chinese reader sees in Chinese software too.
ALLOWED = {"QR", "PDF", "SVG", "CSV", "Excel", "xlsx", "Parquet", "Ctrl", "English", "PassTrace",
           "°C"}
# Site codes (GATE-HGY1-N, VEN-NM-HOSP): typed at checkpoints, printed on the gate.
SITE_CODE = re.compile(r"^[A-Z]{2,}(-[A-Z0-9]+)+$")
WORD = re.compile(r"[A-Za-z0-9_.\-@/]*[A-Za-z][A-Za-z0-9_.\-@/]*")
SKIP_LINK = re.compile(r"^/(static|api)/|logout|/export|/download|/print|/template|"
                       r"\.(csv|xlsx|png|svg|pdf)(\?|$)")

# Visible text, skipping scripts, hidden parts and what is marked translate="no".
VISIBLE_TEXT = """() => {
  const out = [];
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  while (walker.nextNode()) {
    const node = walker.currentNode, el = node.parentElement;
    // [lang="en"]: English a page shows on purpose beside the Chinese (the public,
    // bilingual risk-area list); every other English word is a leak.
    if (!el || el.closest('script,style,template,[translate="no"],[lang="en"]')) continue;
    if (!el.checkVisibility({visibilityProperty: true})) continue;
    out.push(node.textContent);
  }
  document.querySelectorAll('input[placeholder],textarea[placeholder]').forEach(
    i => { if (i.checkVisibility() && !i.closest('[translate="no"]')) out.push(i.placeholder); });
  document.querySelectorAll('option').forEach(o => out.push(o.textContent));
  return out.join('\\n');
}"""


def leaked_words(text: str) -> set[str]:
    """The ASCII words in a page's text that are neither allowed nor codes."""
    found = set()
    for word in WORD.findall(text):
        word = word.strip(".-/")
        if (not word or any(ch.isdigit() for ch in word) or word in ALLOWED
                or re.fullmatch(r"[A-Z]", word) or SITE_CODE.match(word)):
            continue
        found.add(word)
    return found


def shape(path: str) -> str:
    """One visit per kind of page: ids and codes in the path collapse to {}."""
    return re.sub(r"/[^/?#]*[0-9A-Z][^/?#]*", "/{}", path.split("?")[0].split("#")[0])


def walk(page: Any, start: str = "/", limit: int = 60,
         skip: re.Pattern[str] | None = None) -> dict[str, set[str]]:
    """Visit pages reachable from start (one per shape); map each path to its leaked words."""
    queue, seen, leaks = [start], set(), {}
    while queue and len(seen) < limit:
        path = queue.pop(0)
        if shape(path) in seen or (skip and skip.search(path)):
            continue
        seen.add(shape(path))
        response = page.goto(path, wait_until="domcontentloaded")
        if response is None or "text/html" not in response.headers.get("content-type", ""):
            continue
        words = leaked_words(page.evaluate(VISIBLE_TEXT))
        if words:
            leaks[path] = words
        hrefs = page.eval_on_selector_all("a[href]", "as => as.map(a => a.getAttribute('href'))")
        for href in hrefs:
            if href.startswith("/") and not href.startswith("//") and not SKIP_LINK.search(href):
                queue.append(href.split("#")[0])
    return leaks
