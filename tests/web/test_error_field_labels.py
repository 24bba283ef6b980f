"""The error page says which of the reader's entries each message is about."""

from __future__ import annotations

import html
import re

import pytest

from passtrace.web.field_labels import label_for
from tests.web.zh_walk import leaked_words

# Two wrong dates and a wrong page position on the audit log's filter.
BAD_FILTER = "/audit?from=2026-13-45&to=yesterday&before=0"


def _field_items(page: str) -> list[str]:
    """The visible text of each line of the error page's field list."""
    block = re.search(r'<ul id="error-fields">(.*?)</ul>', page, re.S)
    assert block, "the error page lists no fields"
    return [html.unescape(re.sub(r"<[^>]+>", "", li))
            for li in re.findall(r"<li[^>]*>(.*?)</li>", block.group(1), re.S)]


@pytest.mark.parametrize(("language", "expected"), [
    ("zh-CN", ["开始日期：", "结束日期：", "页面位置："]),
    ("en", ["From:", "To:", "Page position:"]),
])
def test_each_message_names_its_field_in_the_readers_language(client, make_persona, language,
                                                                 expected):
    official = make_persona("official", "area", "520102")
    resp = client.get(BAD_FILTER, headers={**official.headers, "Accept": "text/html",
                                           "Accept-Language": language})
    assert resp.status_code == 422
    items = _field_items(resp.text)
    assert len(items) == 3
    for label in expected:
        assert sum(item.startswith(label) for item in items) == 1, (label, items)
    if language == "zh-CN":
        # No API name (from, to, before) nor English message leaks into the Chinese page.
        assert leaked_words("\n".join(items)) == set()


def test_the_api_keeps_the_field_names_for_programs(client, make_persona):
    official = make_persona("official", "area", "520102")
    resp = client.get(BAD_FILTER, headers={**official.headers, "Accept": "application/json"})
    assert resp.status_code == 422
    assert set(resp.json()["error"]["fields"]) == {"from", "to", "before"}


def test_a_field_without_a_label_shows_its_message_alone():
    assert label_for("no_such_field") == ""
    assert label_for("stops.0.window_minutes") == label_for("window_minutes") != ""
