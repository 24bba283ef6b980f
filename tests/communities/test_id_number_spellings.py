"""One ID number is one person however it was typed, on every path that takes one.

An outside test run found superscript digits answering 500 on every path (a batch of
five good rows and one such row stored nothing, three times) and Arabic-Indic digits
making a second person record for the same number. Every path now goes through
core.validators.normalize_id_number: full-width and superscript digits are the same
number, digits of other scripts are refused with a message saying so.
"""

from __future__ import annotations

from datetime import datetime

from passtrace.core.clock import LOCAL_TZ
from tests.communities.conftest import CODE
from tests.people.spellings import EN, fullwidth, people_count, superscript


def test_resident_import_and_visitor_invites_know_a_resident_in_any_spelling(
        client, compound, session):
    number = compound.id_numbers[0]
    people = people_count(session)
    sheet = ("楼栋,单元,房号,姓名,身份证号,手机号,身份\n"
             f"1,1,101,张三,{fullwidth(number)},13800000000,业主\n")
    resp = client.post(f"/api/v1/communities/{CODE}/import", headers=compound.manager.headers,
                       files={"file": ("h.csv", sheet.encode("utf-8"), "text/csv")},
                       data={"import_valid": "false"})
    assert resp.status_code == 200, resp.text
    assert (resp.json()["imported"], resp.json()["unchanged"]) == (0, 1), resp.json()
    assert people_count(session) == people
    # A neighbour "inviting" the resident under a superscript spelling is told they live here.
    resp = client.post("/api/v1/visits", headers={**compound.residents[1].headers, **EN}, json={
        "name": "张三", "phone": "13900001111", "id_number": superscript(number),
        "purpose": "探亲 / family visit", "visit_date": datetime.now(LOCAL_TZ).date().isoformat()})
    assert resp.status_code == 422, resp.text
    assert "lives in this community" in resp.json()["error"]["message"]
