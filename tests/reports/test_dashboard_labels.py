"""The HR dashboard's badges and risk line read as words in the page's language: a risk
area by its name and level (low ones too), never a division code or a stored level."""

from __future__ import annotations

import re

from tests.reports.conftest import CODE, file


def _text(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


def test_the_risk_line_names_areas_and_every_level(client, world, make_persona):  # type: ignore[no-untyped-def]
    official = make_persona("official", "area", "520102")
    for code, level in (("520102", "low"), ("520103", "high")):
        resp = client.post("/api/v1/area-risks", headers=official.headers if code == "520102"
                           else make_persona("official", "area", code).headers,
                           json={"area_code": code, "level": level, "note": "测试"})
        assert resp.status_code == 201, resp.text

    def line(lang: str) -> str:
        html = client.get("/reports/dashboard", params={"enterprise": CODE},
                          headers={**world.admin.headers, "Accept-Language": lang}).text
        return _text(html.split("当前风险区域：" if lang == "zh-CN" else "Risk areas now:")[1]
                     .split("</p>")[0])

    chinese = line("zh-CN")
    assert "南明区（低风险）" in chinese and "云岩区（高风险）" in chinese
    assert "low" not in chinese and "520102" not in chinese and "520103" not in chinese
    english = line("en")
    assert "(low risk)" in english and "(high risk)" in english
    assert "520102" not in english


def test_a_staff_member_missing_two_days_has_a_label_badge(client, world):  # type: ignore[no-untyped-def]
    html = client.get("/reports/dashboard", params={"enterprise": CODE},
                      headers={**world.admin.headers, "Accept-Language": "en"}).text
    overdue = html.split('id="overdue"')[1].split("</table>")[0]
    assert ">Missed yesterday too<" in overdue and "missed yesterday too" not in overdue


def test_a_late_report_has_a_label_badge(client, world):  # type: ignore[no-untyped-def]
    late = file(client, world.staff["alice"].persona, world.today).json()  # after 09:30
    assert late["late"] is True

    def badge(lang: str) -> str:
        html = client.get(f"/reports/view/{late['id']}",
                          headers={**world.admin.headers, "Accept-Language": lang}).text
        return html.split('<span class="badge rejected">')[1].split("</span>")[0]

    assert badge("zh-CN") == "逾期"
    assert badge("en") == "Late"  # a label, not the word "late"
