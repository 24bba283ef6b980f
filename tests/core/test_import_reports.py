"""Sites, staff lists and household lists report the same mistakes the same way.

All three go through core/imports.py: a value repeated in the file is reported on the
later row and names the earlier one, a bad identifier is reported on its row and column,
a missing required column refuses the file with a message naming the columns; the API
report and the page's table have the same shape for all three.
"""

from __future__ import annotations

from typing import Any

import pytest

from passtrace.core.validators import id_check_char
from tests.communities.conftest import CODE, compound  # noqa: F401 - a fixture
from tests.enterprises.conftest import world  # noqa: F401 - a fixture

EN = {"Accept-Language": "en"}


def _id(seq: int) -> str:
    body = f"5201021987021{seq % 10}{seq:03d}"
    return body + id_check_char(body)


def _bad(number: str) -> str:
    return number[:-1] + ("0" if number[-1] != "0" else "1")


def _csv(header: str, *rows: str) -> bytes:
    return (header + "\n" + "\n".join(rows) + "\n").encode()


@pytest.fixture
def imports(client: Any, make_persona: Any, world: Any, compound: Any  # noqa: F811
            ) -> dict[str, dict[str, Any]]:
    """The three imports: where to post (API and page), who may, a sheet with the same
    three mistakes (row 3 repeats row 2, row 4 has a bad identifier), and a sheet that
    lacks a required column."""
    official = make_persona("official", "area", "520102")
    a, b = _id(41), _id(42)
    return {
        "sites": {
            "api": "/api/v1/sites/import", "page": "/sites/import",
            "headers": official.headers, "key": "code",
            "sheet": _csv("编号,名称,类型,区划代码", "SHAPE-1,卡口一,卡口,520102006",
                          "SHAPE-1,卡口二,卡口,520102006", "bad code!,卡口三,卡口,520102006"),
            "lacking": _csv("编号,名称,类型", "SHAPE-2,卡口,卡口")},
        "staff": {
            "api": f"/api/v1/enterprises/{world.ent['id']}/employees/import",
            "page": f"/enterprises/{world.ent['id']}/import",
            "headers": world.admin.headers, "key": "id_number",
            "sheet": _csv("部门,姓名,身份证号", f"生产部,王一,{a}", f"生产部,王二,{a}",
                          f"生产部,王三,{_bad(b)}"),
            "lacking": _csv("部门,姓名", "生产部,王一")},
        "households": {
            "api": f"/api/v1/communities/{CODE}/import", "page": f"/communities/{CODE}/import",
            "headers": compound.manager.headers, "key": "id_number",
            "sheet": _csv("楼栋,单元,房号,姓名,身份证号", f"1,1,111,李一,{a}",
                          f"1,1,112,李二,{a}", f"1,1,113,李三,{_bad(b)}"),
            "lacking": _csv("楼栋,单元,房号,姓名", "1,1,111,李一")},
    }


def test_the_three_imports_report_the_same_mistakes_the_same_way(client: Any,
                                                                 imports: Any) -> None:
    reports = {}
    for kind, it in imports.items():
        resp = client.post(it["api"], headers={**it["headers"], **EN},
                           files={"file": ("list.csv", it["sheet"])})
        assert resp.status_code == 200, (kind, resp.text)
        reports[kind] = report = resp.json()
        assert (report["rows"], report["valid"], report["imported"], report["committed"]) == (
            3, 1, 0, False), (kind, report)
        assert [(p["row"], p["column"]) for p in report["problems"]] == [
            (3, it["key"]), (4, it["key"])], (kind, report)
        repeated, invalid = (p["message"] for p in report["problems"])
        assert repeated.startswith("The same ") and repeated.endswith(
            " is already on row 2."), (kind, repeated)
        assert invalid and "row" not in invalid, (kind, invalid)
    shapes = {kind: (sorted(set(r) & {"rows", "valid", "imported", "unchanged", "committed",
                                      "problems"}),
                     sorted(r["problems"][0])) for kind, r in reports.items()}
    assert len(set(map(repr, shapes.values()))) == 1, shapes
    # Nothing was written by any of them.
    assert client.get("/api/v1/sites/SHAPE-1", headers=imports["sites"]["headers"]
                      ).status_code == 404


def test_a_missing_required_column_refuses_the_file_with_the_same_message(
        client: Any, imports: Any) -> None:
    for kind, it in imports.items():
        resp = client.post(it["api"], headers={**it["headers"], **EN},
                           files={"file": ("list.csv", it["lacking"])})
        assert resp.status_code == 422, (kind, resp.text)
        error = resp.json()["error"]
        assert error["code"] == "invalid"
        assert error["message"].startswith("The first row lacks the column(s) "), (kind, error)
        missing = {"sites": "区划代码/area code", "staff": "身份证号/id number",
                   "households": "身份证号/id number"}[kind]
        assert missing in error["message"].split(". It must")[0], (kind, error)


def test_the_three_import_pages_show_the_same_row_report(client: Any, imports: Any) -> None:
    for kind, it in imports.items():
        resp = client.post(it["page"], headers={**it["headers"], **EN},
                           files={"file": ("list.csv", it["sheet"])})
        assert resp.status_code == 422, (kind, resp.text[:300])
        assert "Nothing was imported: 2 rows need fixing." in resp.text, kind
        table = resp.text.split('id="import-problems"')[1].split("</table>")[0]
        assert table.count("<tr>") == 3, (kind, table)  # the header and two rows
        assert "is already on row 2." in table, (kind, table)
        too_big = client.post(it["page"], headers={**it["headers"], **EN},
                              files={"file": ("list.csv", b"x" * (5 * 1024 * 1024 + 1))})
        assert too_big.status_code == 413, kind  # never cut short and imported in part
