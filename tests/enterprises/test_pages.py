"""Enterprise pages without a browser: every page renders for the people who use it."""

from __future__ import annotations

from datetime import date, timedelta

from tests.enterprises.conftest import add, csv_bytes, id_number

EN = {"Accept-Language": "en"}


def test_hr_pages_render_and_show_their_own_staff_names(client, world):
    add(client, world, "生产部", 61, "王芳")
    ent = world.ent["id"]
    h = {**world.admin.headers, **EN}
    index = client.get("/enterprises", headers=h, follow_redirects=False)
    assert index.status_code == 303 and index.headers["location"] == f"/enterprises/{ent}"
    home = client.get(f"/enterprises/{ent}", headers=h)
    # HR reads the name its own staff list gave (issue 12), the ID number stays masked.
    assert home.status_code == 200 and "王芳" in home.text and "王*" not in home.text
    assert id_number(61) not in home.text
    for path in ("import", "employees/new", "resumption", "commute-passes"):
        assert client.get(f"/enterprises/{ent}/{path}", headers=h).status_code == 200, path


def test_import_page_shows_the_report(client, world):
    h = {**world.admin.headers, **EN}
    rows = [["生产部", "王芳", id_number(62), "", ""], ["后勤部", "孙七", id_number(63), "", ""]]
    resp = client.post(f"/enterprises/{world.ent['id']}/import", headers=h,
                       files={"file": ("s.csv", csv_bytes(rows))})
    assert resp.status_code == 422
    assert "Nothing was imported" in resp.text and "There is no department called" in resp.text
    resp = client.post(f"/enterprises/{world.ent['id']}/import", headers=h,
                       files={"file": ("s.csv", csv_bytes(rows))}, data={"partial": "yes"})
    assert resp.status_code == 200 and "1 imported" in resp.text


def test_department_head_home_shows_only_their_department(client, world):
    add(client, world, "生产部", 64, "王芳")
    add(client, world, "销售部", 65, "李强")
    resp = client.get(f"/enterprises/{world.ent['id']}", headers={**world.head.headers, **EN})
    assert "李强" in resp.text and "王芳" not in resp.text and "王*" not in resp.text
    assert client.get(f"/enterprises/{world.ent['id']}/import",
                      headers=world.head.headers).status_code == 403


def test_official_registers_and_decides_from_pages(client, world):
    h = {**world.official.headers, **EN}
    assert client.get("/enterprises/new", headers=h).status_code == 200
    bad = client.post("/enterprises/new", headers=h, data={
        "credit_code": "91520102MA6J5GQX44", "name": "某公司", "area_code": "520102006"})
    assert bad.status_code == 422 and "check character is wrong" in bad.text
    add(client, world, "生产部", 66)
    ah = {**world.admin.headers, **EN}
    resp = client.post(f"/enterprises/{world.ent['id']}/resumption", headers=ah, data={
        "planned_date": (date.today() + timedelta(days=1)).isoformat(),
        f"headcount-{world.depts['生产部']}": "1", "measures": "每日测温，分餐，消毒。每日两次。",
        "contact_name": "赵安全", "contact_phone": "13800138000"}, follow_redirects=False)
    assert resp.status_code == 303, resp.text
    queue = client.get("/enterprises/resumptions", headers=h)
    assert world.ent["name"] in queue.text and "赵**" in queue.text
    rid = client.get("/api/v1/enterprises/resumptions", headers=h).json()["items"][0]["id"]
    resp = client.post(f"/enterprises/resumptions/{rid}/return", headers=h,
                       data={"reasons": "缺少消毒记录\n联系人电话无法接通"}, follow_redirects=False)
    assert resp.status_code == 303
    page = client.get(f"/enterprises/{world.ent['id']}/resumption", headers=ah)
    assert "缺少消毒记录" in page.text and "联系人电话无法接通" in page.text


def test_invite_pages(client, world, make_persona):
    emp = add(client, world, "生产部", 67)
    ah = {**world.admin.headers, **EN}
    resp = client.post(f"/enterprises/{world.ent['id']}/employees/{emp['id']}/invite",
                       headers=ah)
    assert resp.status_code == 200 and "/enterprises/invite/" in resp.text
    token = resp.text.split("/enterprises/invite/")[1].split('"')[0]
    stranger = make_persona("public")
    page = client.get(f"/enterprises/invite/{token}", headers={**stranger.headers, **EN})
    assert page.status_code == 200 and world.ent["name"] in page.text
    refused = client.post(f"/enterprises/invite/{token}", headers={**stranger.headers, **EN})
    assert refused.status_code == 403 and "someone else" in refused.text
    assert client.get("/enterprises/invite/nonsense", headers=stranger.headers
                      ).status_code == 404


def test_an_official_is_told_when_an_enterprise_has_not_applied_to_resume(client, world):
    page = client.get(f"/enterprises/{world.ent['id']}/resumption",
                      headers={**world.official.headers, "Accept-Language": "zh-CN"})
    assert page.status_code == 200 and "该企业尚未申请复工复产。" in page.text
    assert 'id="resumption-form"' not in page.text
