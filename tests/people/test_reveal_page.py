"""Revealing from the pass page: the value once, with the audit notice."""

from __future__ import annotations

from tests.passes.helpers import apply


def test_an_official_reveals_from_the_page_and_an_outsider_gets_an_error_page(
        client, make_persona):
    holder = make_persona("public", name="张三")
    p = apply(client, holder.headers)
    official = make_persona("official", "area", "520102")
    outsider = make_persona("official", "area", "520103")
    url = f"/people/{p['holder']['person_id']}/reveal"
    form = {"field": "id_number", "purpose": "identity_check", "reason": "核对身份证件信息",
            "back": f"/passes/{p['id']}"}
    ok = client.post(url, data=form, headers={**official.headers, "Accept-Language": "en"})
    assert ok.status_code == 200
    assert 'id="revealed-value"' in ok.text and "recorded" in ok.text
    refused = client.post(url, data=form, headers=outsider.headers)
    assert refused.status_code == 403 and 'id="error-message"' in refused.text
    no_reason = client.post(url, data={**form, "reason": ""}, headers=official.headers)
    assert no_reason.status_code == 422


def test_a_reveal_without_a_reason_explains_why_in_chinese_and_reveals_nothing(
        client, make_persona):
    holder = make_persona("public", name="李四")
    p = apply(client, holder.headers)
    official = make_persona("official", "area", "520102")
    back = f"/passes/{p['id']}"
    resp = client.post(f"/people/{p['holder']['person_id']}/reveal", headers=official.headers,
                       data={"field": "id_number", "purpose": "identity_check", "reason": "看",
                             "back": back})
    assert resp.status_code == 422
    assert "请说明理由，至少 8 个字符。" in resp.text
    assert 'id="revealed-value"' not in resp.text and f'href="{back}"' in resp.text
