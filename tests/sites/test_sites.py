"""Officials register and import sites; scanners post temperatures; staff see the lane."""

from __future__ import annotations

import io

from openpyxl import Workbook

from tests.registrations.conftest import SITE, site_body

CSV_HEADER = "编号,名称,类型,区划代码,通道,开放时间,发热阈值\n"


def _import(client, headers, content: bytes, filename="sites.csv", apply_valid=False):
    return client.post("/api/v1/sites/import", headers=headers,
                       files={"file": (filename, content)},
                       data={"apply_valid": "true" if apply_valid else "false"})


def test_an_official_registers_a_site_in_their_area_only(client, make_persona):
    official = make_persona("official", "area", "520102")
    ok = client.post("/api/v1/sites", json=site_body(), headers=official.headers)
    assert ok.status_code == 200, ok.text
    assert ok.json()["area_name"]
    outside = client.post("/api/v1/sites", json=site_body(code="CP-YY-9",
                                                          area_code="520103003"),
                          headers=official.headers)
    assert outside.status_code == 403
    resident = make_persona("public")
    assert client.post("/api/v1/sites", json=site_body(code="X1"),
                       headers=resident.headers).status_code == 403


def test_bad_site_values_name_the_field(client, make_persona):
    official = make_persona("official", "area", "520102")
    for bad, field in ((dict(code="bad code!"), "code"),
                       (dict(opening_hours=["25:00-26:00"]), "opening_hours"),
                       (dict(lanes=["1", "1"]), "lanes")):
        resp = client.post("/api/v1/sites", json=site_body(**bad), headers=official.headers)
        assert resp.status_code == 422, bad
        assert field in resp.json()["error"]["fields"]
    resp = client.post("/api/v1/sites", json=site_body(area_code="529999"),
                       headers=official.headers)
    assert resp.status_code == 422


def test_import_reports_every_bad_row_and_imports_nothing_by_default(client, make_persona):
    official = make_persona("official", "area", "520102")
    content = (CSV_HEADER
               + "CP-A,卡口甲,卡口,520102006,1;2,,\n"
               + "CP-B,卡口乙,火星基地,520102006,1,,\n"
               + "CP-C,卡口丙,卡口,529999,1,,\n"
               + "CP-A,重复,卡口,520102006,1,,\n"
               + "CP-D,卡口丁,临时路口,520102001,1,06:00-22:00,37.5\n").encode("utf-8")
    report = _import(client, official.headers, content).json()
    assert report["applied"] is False
    assert [e["row"] for e in report["errors"]] == [3, 4, 5]
    assert client.get("/api/v1/sites/CP-A", headers=official.headers).status_code == 404
    report = _import(client, official.headers, content, apply_valid=True).json()
    assert report["applied"] is True and report["created"] == 2
    site = client.get("/api/v1/sites/CP-D", headers=official.headers).json()
    assert site["opening_hours"] == ["06:00-22:00"] and site["fever_threshold"] == 37.5
    again = _import(client, official.headers, content, apply_valid=True).json()
    assert again["created"] == 0 and again["updated"] == 2


def test_import_reads_excel_and_gbk_csv(client, make_persona):
    official = make_persona("official", "area", "520102")
    book = Workbook()
    sheet = book.active
    sheet.append(["code", "name", "type", "area code", "lanes"])
    sheet.append(["XL-1", "Excel site", "venue", "520102", "1"])
    buf = io.BytesIO()
    book.save(buf)
    report = _import(client, official.headers, buf.getvalue(), "sites.xlsx").json()
    assert report["created"] == 1, report
    gbk = (CSV_HEADER + "GBK-1,国标编码站点,场所,520102,1,,\n").encode("gb18030")
    assert _import(client, official.headers, gbk).json()["created"] == 1
    bad = _import(client, official.headers, b"\x00\x01garbage", "x.xlsx")
    assert bad.status_code == 422


def test_a_scanner_posts_a_reading_and_the_operator_is_offered_it(client, checkpoint):
    enrol = client.post(f"/api/v1/sites/{SITE}/devices", json={"name": "测温门1", "lane": "2"},
                        headers=checkpoint.official.headers)
    assert enrol.status_code == 201, enrol.text
    token = enrol.json()["token"]
    none_yet = client.get(f"/api/v1/sites/{SITE}/lanes/2/reading",
                          headers=checkpoint.staff.headers).json()
    assert none_yet["temperature"] is None
    posted = client.post("/api/v1/devices/readings", json={"temperature": 36.84},
                         headers={"Authorization": f"Device {token}"})
    assert posted.status_code == 201, posted.text
    latest = client.get(f"/api/v1/sites/{SITE}/lanes/2/reading",
                        headers=checkpoint.staff.headers).json()
    assert latest["temperature"] == 36.8
    other_lane = client.get(f"/api/v1/sites/{SITE}/lanes/1/reading",
                            headers=checkpoint.staff.headers).json()
    assert other_lane["temperature"] is None
    forged = client.post("/api/v1/devices/readings", json={"temperature": 36.5},
                         headers={"Authorization": "Device nope"})
    assert forged.status_code == 401


def test_site_pages_show_the_day_with_charts(client, checkpoint, make_persona):
    from tests.registrations.conftest import reg_body

    client.post("/api/v1/registrations", json=reg_body(token=checkpoint.pass_["token"],
                                                       temperature=38.2),
                headers=checkpoint.staff.headers)
    token = checkpoint.official.headers["Authorization"].split()[1]
    client.cookies.set("pt_session", token)
    page = client.get(f"/sites/{SITE}")
    assert page.status_code == 200
    assert "<svg" in page.text
    assert 'id="stat-denied">1<' in page.text
    listing = client.get("/sites")
    assert SITE in listing.text


def test_an_official_puts_staff_on_duty_and_takes_them_off(client, checkpoint, make_persona):
    from tests.registrations.conftest import reg_body

    newcomer = make_persona("public", name="新值守员")
    username = newcomer.user.username
    denied = client.post("/api/v1/registrations", json=reg_body(token=checkpoint.pass_["token"]),
                         headers=newcomer.headers)
    assert denied.status_code == 403
    resp = client.post(f"/api/v1/sites/{SITE}/staff", json={"username": username},
                       headers=checkpoint.official.headers)
    assert resp.status_code == 201, resp.text
    listed = client.get(f"/api/v1/sites/{SITE}/staff", headers=checkpoint.official.headers)
    mine = next(s for s in listed.json()["items"] if s["username"] == username)
    assert (mine["id"], mine["label"]) == (str(newcomer.user.id), "新值守员")
    ok = client.post("/api/v1/registrations", json=reg_body(token=checkpoint.pass_["token"]),
                     headers=newcomer.headers)
    assert ok.status_code == 200, ok.text
    gone = client.delete(f"/api/v1/sites/{SITE}/staff/{newcomer.user.id}",
                         headers=checkpoint.official.headers)
    assert gone.status_code == 204
    after = client.post("/api/v1/registrations", json=reg_body(token=checkpoint.pass_["token"]),
                        headers=newcomer.headers)
    # With no checkpoint role left at all, the permission check refuses before any site lookup.
    assert after.status_code == 403, after.text
    outsider = make_persona("official", "area", "520103")
    assert client.post(f"/api/v1/sites/{SITE}/staff", json={"username": username},
                       headers=outsider.headers).status_code == 404


def test_the_site_page_puts_staff_on_duty(client, checkpoint, make_persona):
    newcomer = make_persona("public", name="新值守员")
    token = checkpoint.official.headers["Authorization"].split()[1]
    client.cookies.set("pt_session", token)
    page = client.get(f"/sites/{SITE}")
    assert 'id="staff"' in page.text
    # API tokens carry no CSRF secret for forms; use the header the API accepts.
    resp = client.post(f"/sites/{SITE}/staff", data={"username": newcomer.user.username},
                       headers=checkpoint.official.headers, follow_redirects=False)
    assert resp.status_code == 303
    page = client.get(f"/sites/{SITE}").text
    assert f'data-staff="{newcomer.user.id}">新值守员' in page
    assert newcomer.user.username not in page
