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
    form = {"field": "id_number", "reason": "核对身份", "back": f"/passes/{p['id']}"}
    ok = client.post(url, data=form, headers={**official.headers, "Accept-Language": "en"})
    assert ok.status_code == 200
    assert 'id="revealed-value"' in ok.text and "recorded" in ok.text
    refused = client.post(url, data=form, headers=outsider.headers)
    assert refused.status_code == 403 and 'id="error-message"' in refused.text
    no_reason = client.post(url, data={**form, "reason": ""}, headers=official.headers)
    assert no_reason.status_code == 422
