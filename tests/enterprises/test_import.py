"""Staff-list import: row-by-row report, all or nothing by default, idempotent."""

from __future__ import annotations

import io

from openpyxl import Workbook

from tests.enterprises.conftest import add, csv_bytes, id_number


def _import(client, world, data: bytes, filename="staff.csv", partial=False):  # type: ignore[no-untyped-def]
    return client.post(f"/api/v1/enterprises/{world.ent['id']}/employees/import",
                       headers=world.admin.headers, files={"file": (filename, data)},
                       data={"partial": "true" if partial else "false"})


def _staff(client, world):  # type: ignore[no-untyped-def]
    return client.get(f"/api/v1/enterprises/{world.ent['id']}/employees",
                      params={"limit": 200}, headers=world.admin.headers).json()["items"]


GOOD = [["生产部", "王芳", id_number(11), "13800001111", "A001"],
        ["销售部", "刘洋", id_number(12), "", "A002"],
        ["生产部", "陈静", id_number(13), "13800001113", ""]]


def test_a_clean_file_imports_every_row_and_reimport_changes_nothing(client, world):
    resp = _import(client, world, csv_bytes(GOOD))
    assert resp.status_code == 200, resp.text
    report = resp.json()
    assert (report["imported"], report["committed"], report["problems"]) == (3, True, [])
    names = sorted(s["name"] for s in _staff(client, world))
    assert names == ["刘*", "王*", "陈*"]
    again = _import(client, world, csv_bytes(GOOD)).json()
    assert (again["imported"], again["unchanged"], again["problems"]) == (0, 3, [])
    assert len(_staff(client, world)) == 3


def test_bad_rows_are_reported_and_nothing_is_imported(client, world):
    add(client, world, "生产部", 20, "已在职")
    bad_checksum = id_number(21)[:-1] + ("0" if id_number(21)[-1] != "0" else "1")
    rows = GOOD + [
        ["生产部", "", id_number(22), "", ""],  # empty name
        ["生产部", "赵六", bad_checksum, "", ""],  # bad check digit
        ["销售部", "王芳二", id_number(11), "", ""],  # duplicate in the file
        ["生产部", "已在职", id_number(20), "", "X9"],  # already employed, other details
        ["后勤部", "孙七", id_number(23), "", ""],  # unknown department
        ["生产部", "周八", id_number(24), "12345", ""],  # bad phone
    ]
    report = _import(client, world, csv_bytes(rows)).json()
    assert report["committed"] is False and report["imported"] == 0
    problems = {(p["row"], p["column"]) for p in report["problems"]}
    assert problems == {(5, "name"), (6, "id_number"), (7, "id_number"), (8, "id_number"),
                        (9, "department"), (10, "phone")}
    by_row = {p["row"]: p["message"] for p in report["problems"]}
    assert "row 2" in by_row[7] or "第 2 行" in by_row[7]
    assert len(_staff(client, world)) == 1  # only the one added by hand


def test_choosing_to_import_the_valid_rows(client, world):
    rows = GOOD + [["后勤部", "孙七", id_number(23), "", ""]]
    report = _import(client, world, csv_bytes(rows), partial=True).json()
    assert report["committed"] is True and report["imported"] == 3
    assert [p["row"] for p in report["problems"]] == [5]
    assert len(_staff(client, world)) == 3


def test_english_headers_and_excel_files(client, world):
    book = Workbook()
    sheet = book.active
    sheet.append(["Department", "Name", "ID number", "Phone", "Employee no"])
    sheet.append(["生产部", "Li Ming", id_number(31), "13800003131", "B1"])
    sheet.append(["销售部", "周杰", 520102198805120319, None, None])  # typed as a number
    buf = io.BytesIO()
    book.save(buf)
    report = _import(client, world, buf.getvalue(), "staff.xlsx").json()
    assert report["imported"] == 0 and report["committed"] is False
    assert report["problems"][0]["row"] == 3
    assert "Excel" in report["problems"][0]["message"]
    report = _import(client, world, buf.getvalue(), "staff.xlsx", partial=True).json()
    assert report["imported"] == 1


def test_unreadable_files_get_a_clear_error(client, world):
    resp = _import(client, world, b"PK\x03\x04garbage", "staff.xlsx")
    assert resp.status_code == 422
    resp = _import(client, world, csv_bytes([], header=["foo", "bar"]))
    assert resp.status_code == 422
    assert "姓名" in resp.json()["error"]["message"]
    assert _import(client, world, b"").status_code == 422


def test_gbk_csv_from_excel_is_understood(client, world):
    data = csv_bytes(GOOD[:1]).decode().encode("gb18030")
    assert _import(client, world, data).json()["imported"] == 1


def test_department_heads_cannot_import(client, world):
    resp = client.post(f"/api/v1/enterprises/{world.ent['id']}/employees/import",
                       headers=world.head.headers, files={"file": ("s.csv", csv_bytes(GOOD))})
    assert resp.status_code == 403


def test_garbage_uploads_never_break_the_server(client, world):
    import random

    rng = random.Random(5)
    samples = [bytes(rng.randrange(256) for _ in range(rng.randrange(1, 400)))
               for _ in range(25)]
    samples += [b"\x00\x01", "部门,姓名,身份证号\n".encode() + b"x" * 200_000,
                "部门,姓名,身份证号\n生产部,=cmd|' /C calc'!A0,1\n".encode(),
                "部门,姓名,身份证号\n" .encode() + ("生产部," * 500).encode()]
    for data in samples:
        for name in ("s.csv", "s.xlsx"):
            resp = _import(client, world, data, name)
            assert resp.status_code in (200, 413, 422), (resp.status_code, data[:40])
