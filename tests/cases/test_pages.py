"""Case pages: the list with search, filters and paging; the new-case form keeping what was
typed; the case page's edit, close and reopen with a stale version explained."""

from __future__ import annotations

from tests.cases.conftest import count_cases, new_case
from tests.conftest import next_id_number


def test_an_official_opens_a_case_on_the_form_and_lands_on_its_page(client, session, cast):
    h = cast["official"].headers
    form = client.get("/cases/new", headers=h)
    assert form.status_code == 200 and "新建病例" in form.text
    assert 'value="520102" selected' in form.text  # the official's one district
    resp = client.post("/cases/new", headers=h, follow_redirects=False, data={
        "id_number": next_id_number(), "classification": "suspected",
        "onset_date": "2026-11-20", "isolation_date": "2026-11-25", "area_code": "520102",
        "source": "发热门诊", "notes": ""})
    assert resp.status_code == 303, resp.text
    page = client.get(resp.headers["location"], headers=h)
    assert "疑似病例" in page.text and "发热门诊" in page.text
    assert "2026-11-18 00:00 – 2026-11-26 00:00" in page.text


def test_a_bad_form_comes_back_with_the_typed_values_and_chinese_messages(client, session,
                                                                        cast):
    before = count_cases(session)
    resp = client.post("/cases/new", headers=cast["official"].headers, data={
        "id_number": "110101199003074515", "classification": "asymptomatic",
        "onset_date": "2026-11-20", "sampling_date": "", "area_code": "520102",
        "source": "社区筛查"})
    assert resp.status_code == 422
    assert "身份证号校验位错误" in resp.text
    assert 'value="110101199003074515"' in resp.text and 'value="社区筛查"' in resp.text
    resp = client.post("/cases/new", headers=cast["official"].headers, data={
        "id_number": next_id_number(), "classification": "asymptomatic",
        "onset_date": "2026-11-20", "sampling_date": "", "area_code": "520102"})
    assert resp.status_code == 422 and "请填写采样日期" in resp.text
    resp = client.post("/cases/new", headers=cast["official"].headers, data={
        "id_number": next_id_number(), "onset_date": "昨天", "area_code": "520102"})
    assert resp.status_code == 422 and 'value="昨天"' in resp.text
    assert count_cases(session) == before


def test_the_list_filters_searches_and_pages(client, cast):
    h = cast["official"].headers
    number = next_id_number()
    target = new_case(client, h, id_number=number, classification="suspected")
    for _ in range(3):
        new_case(client, h)
    found = client.get(f"/cases?q={number[:6]} {number[6:]}", headers=h)
    assert found.text.count('href="/cases/0') + found.text.count('href="/cases/') >= 1
    assert f'href="/cases/{target["id"]}"' in found.text
    assert found.text.count("<tr>") == 2  # the header row and the one case
    bad = client.get("/cases?q=12345", headers=h)
    assert bad.status_code == 200 and 'id="search-error"' in bad.text
    suspected = client.get("/cases?classification=suspected", headers=h)
    assert f'href="/cases/{target["id"]}"' in suspected.text
    page = client.get("/api/v1/cases?limit=2", headers=h).json()
    assert len(page["items"]) == 2 and page["next"]
    rest = client.get(f"/api/v1/cases?limit=200&cursor={page['next']}", headers=h).json()
    ids = [c["id"] for c in page["items"] + rest["items"]]
    assert len(ids) == len(set(ids)) >= 4


def test_a_stale_edit_on_the_page_is_a_409_with_the_message(client, cast):
    h = cast["official"].headers
    c = new_case(client, h)
    fields = {"version": "1", "classification": "confirmed", "onset_date": "2026-11-20",
              "isolation_date": "2026-11-25", "window_start": "2026-11-18",
              "window_end": "2026-11-25", "area_code": "520102", "source": "", "notes": "甲"}
    first = client.post(f"/cases/{c['id']}/edit", headers=h, data=fields,
                        follow_redirects=False)
    assert first.status_code == 303
    second = client.post(f"/cases/{c['id']}/edit", headers=h, data={**fields, "notes": "乙"})
    assert second.status_code == 409 and "已被他人修改" in second.text
    assert "乙" in second.text  # what was typed stays on the form
    after = client.get(f"/api/v1/cases/{c['id']}", headers=h).json()
    assert after["notes"] == "甲" and after["version"] == 2
    # The window shown unchanged is not an edit of it: moving onset moves the default.
    moved = client.post(f"/cases/{c['id']}/edit", headers=h, follow_redirects=False,
                        data={**fields, "version": "2", "onset_date": "2026-11-21"})
    assert moved.status_code == 303
    assert client.get(f"/api/v1/cases/{c['id']}", headers=h).json()[
        "window_first_day"] == "2026-11-19"


def test_close_and_reopen_from_the_page(client, cast):
    h = cast["official"].headers
    c = new_case(client, h)
    assert client.post(f"/cases/{c['id']}/close", headers=h, data={"version": "1",
                       "note": "治愈出院"}, follow_redirects=False).status_code == 303
    page = client.get(f"/cases/{c['id']}", headers=h).text
    assert "已结案" in page and "治愈出院" in page and 'id="case-reopen-form"' in page
    stale = client.post(f"/cases/{c['id']}/reopen", headers=h, data={"version": "1"})
    assert stale.status_code == 409
    assert client.post(f"/cases/{c['id']}/reopen", headers=h, data={"version": "2"},
                       follow_redirects=False).status_code == 303


def test_the_pages_read_in_english_too(client, cast):
    h = {**cast["official"].headers, "Accept-Language": "en"}
    c = new_case(client, h)
    page = client.get(f"/cases/{c['id']}", headers=h).text
    assert "Timeline of the exposure window" in page and "Confirmed" in page
    assert "Cases" in client.get("/", headers=h).text


def test_the_home_page_links_cases_for_officials_only(client, cast):
    assert 'id="tile-cases"' in client.get("/", headers=cast["official"].headers).text
    assert 'id="tile-cases"' not in client.get("/", headers=cast["resident"].headers).text


def test_officials_reach_health_decisions_and_analytics_from_home(client, cast):
    home = client.get("/", headers=cast["official"].headers).text
    for tile, href in (("tile-health-queue", "/health/queue"), ("tile-analytics", "/analytics")):
        assert f'id="{tile}"' in home
        assert f'href="{href}"' in home
        assert client.get(href, headers=cast["official"].headers).status_code == 200
    resident_home = client.get("/", headers=cast["resident"].headers).text
    assert 'id="tile-health-queue"' not in resident_home
    assert 'id="tile-analytics"' not in resident_home


def test_the_case_heading_takes_each_languages_colon(client, cast):
    h = cast["official"].headers
    c = new_case(client, h)

    def heading(lang: str) -> str:
        page = client.get(f"/cases/{c['id']}", headers={**h, "Accept-Language": lang}).text
        return page.split("<h1>")[1].split("</h1>")[0]

    assert heading("zh-CN").startswith("病例：")  # full-width, as Chinese text writes it
    assert heading("en").startswith("Case: ")
