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


def test_the_site_name_is_labelled_as_a_name_of_a_place_not_of_a_person(client, make_persona):
    # Issue 12: 姓名 is a person's name; a site's name is 名称.
    official = make_persona("official", "area", "520102")
    form = client.get("/sites/new", headers=official.headers)
    assert form.status_code == 200
    assert "站点名称" in form.text and "姓名" not in form.text
    sheet = ("编号,名称,类型,区划代码,通道,开放时间,发热阈值\n"
             "CP-LBL-1,,卡口,520102006,1,,\n").encode()
    report = client.post("/sites/import", headers=official.headers,
                         files={"file": ("sites.csv", sheet)}, data={"apply_valid": "false"})
    assert report.status_code == 422
    assert '<td data-label="列">站点名称</td>' in report.text
    assert "姓名" not in report.text
