"""How the warnings pages read to their users: the public list in both languages
whichever one the visitor chose, levels and severities told apart by colour, an official
offered their own areas by name, the queue saying why and what an empty list means."""

from __future__ import annotations

import re


def _declare(client, world, level: str = "high") -> None:  # type: ignore[no-untyped-def]
    resp = client.post("/api/v1/area-risks", headers=world.official.headers, json={
        "area_code": "520102", "level": level, "note": "聚集性疫情"})
    assert resp.status_code == 201, resp.text


def _text(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", "", html))


def test_the_public_list_reads_in_both_languages_without_saying_one_twice(
        client, world) -> None:  # type: ignore[no-untyped-def]
    _declare(client, world)
    client.cookies.clear()
    chinese = _text(client.get("/risk-areas").text)
    assert "当前风险区域 · Current risk areas" in chinese
    assert "高风险 · High risk" in chinese and "等级 · Level" in chinese
    assert "时间均为北京时间。" in chinese
    english = _text(client.get("/risk-areas", headers={"Accept-Language": "en"}).text)
    assert "Current risk areas · 当前风险区域" in english
    assert "Current risk areas · Current risk areas" not in english
    assert "High risk · 高风险" in english and "Level · 等级" in english
    assert "until lifted · 直至解除" in english


def test_levels_and_severities_carry_their_colour(client, world) -> None:  # type: ignore[no-untyped-def]
    _declare(client, world)
    official = world.official.headers
    risks = client.get("/warnings/risk-areas", headers=official).text
    assert '<span class="badge risk-high">' in risks and "/static/warnings.css" in risks
    queue = client.get("/warnings/alerts", headers=official).text
    assert 'class="badge severity-high"' in queue and "/static/warnings.css" in queue
    css = client.get("/static/warnings.css").text
    high = re.search(r"\.badge\.risk-high[^{]*\{([^}]*)\}", css)
    low = re.search(r"\.badge\.risk-low[^{]*\{([^}]*)\}", css)
    assert high and low and high.group(1) != low.group(1)


def test_the_declare_form_offers_the_officials_areas_by_name(client, world) -> None:  # type: ignore[no-untyped-def]
    page = client.get("/warnings/risk-areas", headers=world.official.headers).text
    assert "您负责的区域" in page and "南明区 (520102)" in page
    options = dict(re.findall(r'<option value="(\d+)">([^<]+)</option>',
                              page.split('id="my-areas"')[1].split("</datalist>")[0]))
    assert options["520102"] == "南明区"
    assert all(code.startswith("520102") for code in options), options
    assert "您的辖区尚未发布风险区域" in page
    other = client.get("/warnings/risk-areas", headers=world.outsider.headers).text
    assert "南明区 (520102)" not in other and "云岩区 (520103)" in other


def test_the_queue_says_why_and_what_an_empty_list_means(client, world) -> None:  # type: ignore[no-untyped-def]
    official = world.official.headers
    page = _text(client.get("/warnings/alerts", headers=official).text)
    assert "对象" in page
    assert "测得体温 38.2 °C" in page  # the explanation, without opening the alert
    none = _text(client.get("/warnings/alerts?rule=impossible_travel", headers=official).text)
    assert "没有符合筛选条件的预警。" in none
    empty = _text(client.get("/warnings/alerts", headers=world.outsider.headers).text)
    assert "您的辖区暂无预警。" in empty


def test_the_rules_page_names_each_days_parameter(client, world) -> None:  # type: ignore[no-untyped-def]
    page = client.get("/warnings/rules", headers=world.official.headers).text
    assert "回溯天数" in page and "连续未填报天数" in page
    assert ">天数 (" not in page


def test_alert_statuses_read_as_labels_in_english(client, world) -> None:  # type: ignore[no-untyped-def]
    english = {**world.official.headers, "Accept-Language": "en"}
    queue = client.get("/warnings/alerts", headers=english).text
    cell = queue.split('class="alert-status">')[1].split("</td>")[0]
    assert cell == "Awaiting action"  # not the stored word "open"
    assert 'class="badge severity-high">High</span>' in queue
    menu = queue.split('id="status"')[1].split("</select>")[0]
    assert ">Acknowledged<" in menu and ">False alarm<" in menu and ">open<" not in menu
    detail = client.get(f"/warnings/alerts/{world.alert}", headers=english).text
    assert '<span id="alert-status">Awaiting action</span>' in detail
    chinese = client.get("/warnings/alerts", headers=world.official.headers).text
    assert 'class="alert-status">待处理</td>' in chinese


def test_risk_levels_read_as_labels_in_both_languages(client, world) -> None:  # type: ignore[no-untyped-def]
    _declare(client, world, level="medium")
    official = world.official.headers

    def badge(lang: str) -> str:
        html = client.get("/warnings/risk-areas",
                          headers={**official, "Accept-Language": lang}).text
        return html.split('<span class="badge risk-medium">')[1].split("</span>")[0]

    assert badge("zh-CN") == "中风险"
    assert badge("en") == "Medium risk"  # a label, not the stored "medium" or "medium risk"
