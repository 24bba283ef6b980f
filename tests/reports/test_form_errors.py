"""The daily report form keeps what was typed and explains mistakes in Chinese beside the
fields, row by row; nothing is filed."""

from __future__ import annotations


def test_a_bad_report_comes_back_with_the_typed_values(client, world):
    alice = world.staff["alice"].persona
    resp = client.post("/reports/today", headers=alice.headers, data={
        "report_date": world.today.isoformat(), "temperature": "有点烧",
        "stop_area": ["520102006", "520102006"], "stop_place": ["花果园", "公司"],
        "stop_arrive": ["08:00", "九点"], "stop_depart": ["08:40", ""],
        "stop_mode": ["", "bus"], "stop_ref": ["", "K12"], "stop_seat": ["", ""]})
    assert resp.status_code == 422
    assert "部分填写内容有误，请检查。" in resp.text
    assert "请输入数字。" in resp.text  # temperature
    assert "Input should be" not in resp.text
    # The second place's arrival is wrong, and the message sits in that row.
    rows = resp.text.split("data-stop>")[1:]
    assert "请输入日期和时间。" in rows[1] and "请输入日期和时间。" not in rows[0]
    for typed in ('value="有点烧"', 'value="花果园"', 'value="公司"', 'value="九点"',
                  'value="K12"'):
        assert typed in resp.text
    mine = client.get("/api/v1/reports/mine", headers=alice.headers)
    assert mine.status_code == 200 and mine.json()["items"] == []


def test_a_quick_report_of_an_unknown_kind_is_explained(client, world):
    alice = world.staff["alice"].persona
    resp = client.post("/reports/today/quick", headers=alice.headers,
                       data={"kind": "whatever", "temperature": "36.5"})
    assert resp.status_code == 422
    # A tampered button has no field to sit beside: the message says what is wrong.
    assert "部分填写内容有误，请检查。" in resp.text and "Input should be" not in resp.text
