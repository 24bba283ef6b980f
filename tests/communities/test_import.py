"""Importing the property office's household sheet: row-by-row report, all or nothing."""

from __future__ import annotations

from sqlalchemy import func, select

from passtrace.communities.compounds.models import Household, Resident
from passtrace.core.validators import id_check_char
from passtrace.passes.models import Pass
from tests.communities.conftest import CODE, pass_at_gate


def _id(seq: int, birth: str = "19850203") -> str:
    body = f"520102{birth}{seq:03d}"
    return body + id_check_char(body)


def _upload(client, headers, text: str, *, import_valid: bool = False, name="h.csv"):
    return client.post(f"/api/v1/communities/{CODE}/import", headers=headers,
                       files={"file": (name, text.encode("utf-8"), "text/csv")},
                       data={"import_valid": "true" if import_valid else "false"})


def _count(session, model) -> int:
    return session.scalar(select(func.count()).select_from(model))


GOOD = ("楼栋,单元,房号,姓名,身份证号,手机号,身份\n"
        f"1,2,201,赵一,{_id(501)},13900000001,业主\n"
        f"1,2,201,赵二,{_id(502)},,家属\n"
        f"2栋,1单元,302室,钱三,{_id(503)},13900000003,租户\n")


def test_a_clean_sheet_creates_flats_residents_and_household_passes(client, session, compound):
    before = _count(session, Resident)
    resp = _upload(client, compound.manager.headers, GOOD)
    assert resp.status_code == 200, resp.text
    report = resp.json()
    assert report == {"rows": 3, "valid": 3, "imported": 3, "unchanged": 0, "committed": True,
                      "problems": []}
    assert _count(session, Resident) == before + 3
    flats = {(h.unit, h.room) for h in session.scalars(select(Household))}
    assert ("2", "201") in flats and ("1", "302") in flats  # 栋/单元/室 suffixes dropped
    passes = session.scalars(select(Pass).where(Pass.purpose == "household",
                                                Pass.areas.is_not(None))).all()
    assert len([p for p in passes if p.token_enc]) >= before + 3
    # The imported tenant can go out through the gate with a typed ID number.
    out = pass_at_gate(client, compound.staff, id_number=_id(503))
    assert out["decision"] == "allow", out


def test_reimporting_changes_nothing(client, session, compound):
    assert _upload(client, compound.manager.headers, GOOD).json()["imported"] == 3
    n = _count(session, Resident)
    again = _upload(client, compound.manager.headers, GOOD).json()
    assert again["imported"] == 0 and again["unchanged"] == 3 and again["committed"]
    assert _count(session, Resident) == n


def test_one_bad_row_imports_nothing_and_says_which_row_and_why(client, session, compound):
    bad_id = _id(504)[:-1] + ("0" if _id(504)[-1] != "0" else "1")
    sheet = ("楼栋,单元,房号,姓名,身份证号,手机号\n"
             f"1,1,102,孙四,{_id(505)},13900000005\n"
             f"1,1,103,李五,{bad_id},13900000006\n"
             f"9,1,101,周六,{_id(506)},\n"
             f"1,3,101,吴七,{_id(507)},\n"
             f"1,1,104,郑八,{_id(505)},\n"
             f"1,1,105,王九,{_id(508)},12345\n")
    before = _count(session, Resident)
    report = _upload(client, compound.manager.headers, sheet).json()
    assert not report["committed"] and report["imported"] == 0
    by_row = {p["row"]: p for p in report["problems"]}
    assert by_row[3]["column"] == "id_number"  # bad checksum
    assert by_row[4]["column"] == "building" and "9" in by_row[4]["message"]
    assert by_row[5]["column"] == "unit"
    assert by_row[6]["column"] == "id_number" and "2" in by_row[6]["message"]  # duplicate
    assert by_row[7]["column"] == "phone"
    assert 2 not in by_row
    assert _count(session, Resident) == before
    # The messages are translated (zh_CN is the default language).
    assert any("楼" in p["message"] or "栋" in p["message"] for p in report["problems"])

    partial = _upload(client, compound.manager.headers, sheet, import_valid=True).json()
    assert partial["committed"] and partial["imported"] == 1
    assert _count(session, Resident) == before + 1


def test_a_resident_of_another_flat_is_refused(client, compound):
    sheet = f"楼栋,单元,房号,姓名,身份证号\n2,1,901,张三,{compound.id_numbers[0]}\n"
    report = _upload(client, compound.manager.headers, sheet).json()
    assert not report["committed"]
    assert report["problems"][0]["column"] == "id_number"


def test_english_headers_and_unreadable_files(client, compound):
    sheet = f"Building,Unit,Room,Name,ID number,Role\n1,1,106,Li Lei,{_id(509)},tenant\n"
    assert _upload(client, compound.manager.headers, sheet).json()["imported"] == 1
    resp = _upload(client, compound.manager.headers, "foo,bar\n1,2\n")
    assert resp.status_code == 422 and "楼栋" in resp.json()["error"]["message"]
    resp = _upload(client, compound.manager.headers, "")
    assert resp.status_code == 422
    resp = _upload(client, compound.manager.headers,
                   f"楼栋,单元,房号,姓名,身份证号,身份\n1,1,107,甲,{_id(510)},老板\n")
    assert resp.json()["problems"][0]["column"] == "role"


def test_only_the_compounds_manager_may_import(client, compound, make_persona):
    other = make_persona("community_manager", "community", "520102006002")
    assert _upload(client, other.headers, GOOD).status_code == 404
    assert _upload(client, compound.residents[0].headers, GOOD).status_code == 404
    assert _upload(client, compound.staff.headers, GOOD).status_code == 404
    template = client.get(f"/api/v1/communities/{CODE}/import/template.csv",
                          headers=compound.manager.headers)
    assert template.status_code == 200 and "身份证号" in template.content.decode("utf-8-sig")
