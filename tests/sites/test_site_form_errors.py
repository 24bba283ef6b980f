"""The site form keeps what was typed and explains mistakes in Chinese beside the fields."""

from __future__ import annotations


def test_a_bad_site_form_comes_back_with_the_typed_values(client, make_persona):
    official = make_persona("official", "area", "520102")
    resp = client.post("/sites/new", headers=official.headers, data={
        "code": "CP-FORM-1", "name": "南门卡口", "kind": "road_checkpoint",
        "area_code": "520102006", "latitude": "北纬26度", "lanes": "1，2",
        "fever_threshold": "37.3"})
    assert resp.status_code == 422
    assert "请输入数字。" in resp.text and "Input should be" not in resp.text
    assert 'value="南门卡口"' in resp.text and 'value="北纬26度"' in resp.text
    assert 'value="1，2"' in resp.text
    assert client.get("/sites/CP-FORM-1", headers=official.headers).status_code == 404


def test_a_site_outside_my_area_is_refused_beside_the_form(client, make_persona):
    official = make_persona("official", "area", "520102")
    resp = client.post("/sites/new", headers=official.headers, data={
        "code": "CP-FORM-2", "name": "云岩卡口", "kind": "road_checkpoint",
        "area_code": "520103003"})
    assert resp.status_code == 403
    assert "该区域不在您的管辖范围内。" in resp.text and 'value="云岩卡口"' in resp.text


def test_an_unknown_kind_is_explained_next_to_the_type(client, make_persona):
    official = make_persona("official", "area", "520102")
    resp = client.post("/sites/new", headers=official.headers, data={
        "code": "CP-FORM-3", "name": "东门", "kind": "nothing", "area_code": "520102003"})
    assert resp.status_code == 422
    assert '<small class="error">请从给出的选项中选择。</small>' in resp.text
