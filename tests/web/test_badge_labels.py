"""Badges read as labels in the page's language, never as the lowercase word stored or
written in the template ("closed", "late")."""

from __future__ import annotations

import uuid

from passtrace.sites.models import Site


def _badge(html: str, marker: str) -> str:
    return html.split(marker)[1].split('<span class="badge">')[1].split("</span>")[0]


def test_a_closed_site_has_a_label_badge(client, session, make_persona):  # type: ignore[no-untyped-def]
    official = make_persona("official", "area", "520102")
    code = f"BD-{uuid.uuid4().hex[:6].upper()}"
    session.add(Site(code=code, name="已停用测试卡口", kind="venue", area_code="520102",
                     active=False))
    session.commit()
    marker = f'href="/sites/{code}"'
    zh = client.get("/sites", headers={**official.headers, "Accept-Language": "zh-CN"}).text
    assert _badge(zh, marker) == "已关闭"
    en = client.get("/sites", headers={**official.headers, "Accept-Language": "en"}).text
    assert _badge(en, marker) == "Closed down"  # a label, not the word "closed"
