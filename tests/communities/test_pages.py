"""Compound pages without a browser: each renders for the manager with the right numbers,
refuses everyone else with 404, and its forms show errors next to the fields."""

from __future__ import annotations

import re
import uuid
from datetime import timedelta

from sqlalchemy import select, update

from passtrace.communities.compounds.models import Community, Outing, Resident
from passtrace.core.clock import utcnow
from passtrace.demo import demo_id_number
from tests.communities.conftest import CODE, pass_at_gate

EN = {"Accept-Language": "en"}
PAGES = ("", "/households", "/import", "/rules", "/out")


def _h(persona):
    return {**persona.headers, **EN}


def _text(html: str, element_id: str) -> str:
    """The text of the element with this id (tags stripped)."""
    match = re.search(rf'id="{element_id}"[^>]*>(.*?)</', html, re.S)
    assert match, element_id
    return re.sub(r"<[^>]+>", "", match.group(1)).strip()


def _out(client, compound, who: int):
    out = pass_at_gate(client, compound.staff, id_number=compound.id_numbers[who],
                       direction="out")
    assert out["decision"] == "allow", out


def test_manager_goes_straight_to_their_compound(client, compound):
    resp = client.get("/communities", headers=_h(compound.manager), follow_redirects=False)
    assert resp.status_code == 303 and resp.headers["location"] == f"/communities/{CODE}"


def test_overview_shows_size_people_out_rules_gates_and_the_chart(client, compound):
    compound.rules(client, max_out_per_household=2, max_out_minutes=30)
    _out(client, compound, 0)
    _out(client, compound, 1)
    resp = client.get(f"/communities/{CODE}", headers=_h(compound.manager))
    assert resp.status_code == 200, resp.text
    html = resp.text
    assert [_text(html, f"stat-{k}") for k in ("buildings", "households", "residents", "out",
                                              "overdue", "visitors")] == \
        ["2", "1", "3", "2", "0", "0"]
    assert "At most 2 members of a household out at a time." in html
    assert "Back within 30 minutes, or overdue." in html
    assert "GATE-T-N" in html and "GATE-T-S" in html
    chart = html.split('id="in-out-chart"')[1].split("</figure>")[0]
    assert chart.count("<svg") == 1 and "Entries" in chart and "Exits" in chart
    assert "Exits: 2" in html  # both allowed exits counted today
    # Another day, and nonsense for a day, still render.
    assert client.get(f"/communities/{CODE}?day=2020-01-01",
                      headers=_h(compound.manager)).status_code == 200
    bad = client.get(f"/communities/{CODE}?day=yesterday", headers=_h(compound.manager))
    assert bad.status_code == 200 and "Enter a date." in bad.text


def test_overdue_is_counted_and_listed_in_red(client, compound, session):
    compound.rules(client, max_out_minutes=30)
    _out(client, compound, 0)
    _out(client, compound, 2)
    c = session.scalar(select(Community).where(Community.code == CODE))
    session.execute(update(Outing).where(Outing.community_id == c.id,
                                         Outing.person_id == compound.residents[0]
                                         .user.person_id)
                    .values(out_at=utcnow() - timedelta(minutes=95)))
    session.commit()
    h = _h(compound.manager)
    overview = client.get(f"/communities/{CODE}", headers=h).text
    assert _text(overview, "stat-overdue") == "1" and 'card alert' in overview
    listing = client.get(f"/communities/{CODE}/out", headers=h).text
    rows = listing.split('id="out-list"')[1].split("</table>")[0]
    assert rows.count("<tr") == 3  # head + two out, the longest out first
    assert rows.index("张*") < rows.index("王*")
    assert rows.count('class="overdue"') == 1 and "1 h 35 min" in rows
    only = client.get(f"/communities/{CODE}/out?overdue=1", headers=h).text
    only_rows = only.split('id="out-list"')[1].split("</table>")[0]
    assert "张*" in only_rows and "王*" not in only_rows
    week = listing.split('id="week-list"')[1].split("</table>")[0]
    assert "Bldg 1, Unit 1, Room 101" in week and ">2<" in week
    assert "<svg" in listing.split('id="week-chart"')[1]


def test_households_page_lists_masked_residents_and_who_is_out(client, compound):
    _out(client, compound, 1)
    resp = client.get(f"/communities/{CODE}/households", headers=_h(compound.manager))
    assert resp.status_code == 200
    html = resp.text
    assert "Bldg 1, Unit 1, Room 101" in html
    assert html.count('class="resident"') == 3
    assert "张*" in html and "张三" not in html
    assert "Owner" in html and "Family member" in html
    assert html.count("Out since") == 1
    assert compound.id_numbers[0] not in html
    # Filters: another building, a room that does not exist, nonsense paging.
    h = _h(compound.manager)
    assert 'class="resident"' not in client.get(
        f"/communities/{CODE}/households?building=2", headers=h).text
    assert "No household matches." in client.get(
        f"/communities/{CODE}/households?room=999", headers=h).text
    assert client.get(f"/communities/{CODE}/households?room=10&after=nonsense",
                      headers=h).text.count('class="resident"') == 3


def test_everyone_but_the_compounds_managers_gets_404(client, compound, make_persona):
    other = make_persona("community_manager", "community", "520102006002")
    resident = compound.residents[0]
    for persona in (other, resident):
        for path in PAGES:
            resp = client.get(f"/communities/{CODE}{path}", headers=_h(persona))
            assert resp.status_code == 404, (path, resp.status_code)
        resp = client.post(f"/communities/{CODE}/rules", headers=_h(persona),
                           data={"max_out_per_household": "1"})
        assert resp.status_code == 404
    assert client.get("/communities", headers=_h(resident)).status_code == 200
    for bad in ("nonsense", "5201020060019", "%00"):
        assert client.get(f"/communities/{bad}", headers=_h(compound.manager)
                          ).status_code == 404


def test_official_lists_and_searches_compounds(client, compound):
    h = _h(compound.official)
    listing = client.get("/communities", headers=h)
    assert listing.status_code == 200 and "测试小区" in listing.text
    assert "测试小区" not in client.get("/communities?q=花果园", headers=h).text
    assert "测试小区" in client.get(f"/communities?q={CODE[-4:]}", headers=h).text
    assert client.get(f"/communities/{CODE}/rules", headers=h).status_code == 200


def test_add_resident_shows_a_bad_id_number_next_to_it(client, compound):
    h = _h(compound.manager)
    good = demo_id_number("520102", "19880808", "771")
    form = {"building": "1", "unit": "2", "room": "302", "name": "赵六", "phone": "",
            "role": "tenant", "id_number": good[:-1] + ("0" if good[-1] != "0" else "1")}
    bad = client.post(f"/communities/{CODE}/residents", headers=h, data=form)
    assert bad.status_code == 422
    assert "check digit" in _text(bad.text, "id-number-error")
    assert 'value="赵六"' in bad.text  # the form keeps what was typed
    wrong_unit = client.post(f"/communities/{CODE}/residents", headers=h,
                             data={**form, "id_number": good, "building": "2", "unit": "9"})
    assert wrong_unit.status_code == 422 and "has no unit 9" in wrong_unit.text
    odd = client.post(f"/communities/{CODE}/residents", headers=h,
                      data={**form, "id_number": good, "building": "5%", "name": "赵六\x00"})
    assert odd.status_code == 422 and "There is no building 5%" in odd.text
    ok = client.post(f"/communities/{CODE}/residents", headers=h,
                     data={**form, "id_number": good}, follow_redirects=False)
    assert ok.status_code == 303, ok.text
    page = client.get(ok.headers["location"], headers=h).text
    assert "Bldg 1, Unit 2, Room 302" in page and "赵*" in page and "Tenant" in page
    again = client.post(f"/communities/{CODE}/residents", headers=h,
                        data={**form, "id_number": good})
    assert again.status_code == 409 and "already a resident" in again.text


def test_add_building_with_units(client, compound):
    h = _h(compound.manager)
    resp = client.post(f"/communities/{CODE}/buildings", headers=h,
                       data={"name": "3栋", "units": "1，2 3"}, follow_redirects=False)
    assert resp.status_code == 303
    page = client.get(resp.headers["location"], headers=h).text
    assert "Bldg 3: units 1, 2, 3" in page
    empty = client.post(f"/communities/{CODE}/buildings", headers=h, data={"name": " "})
    assert empty.status_code == 422 and "field-error" in empty.text


def test_remove_resident_needs_a_reason(client, compound, session):
    h = _h(compound.manager)
    rid = compound.resident_ids[2]
    confirm = client.get(f"/communities/{CODE}/residents/{rid}/remove", headers=h)
    assert confirm.status_code == 200 and "王*" in confirm.text
    refused = client.post(f"/communities/{CODE}/residents/{rid}/remove", headers=h,
                          data={"reason": " "})
    assert refused.status_code == 422 and "reason" in _text(refused.text, "reason-error")
    assert session.get(Resident, uuid.UUID(rid)) is not None
    done = client.post(f"/communities/{CODE}/residents/{rid}/remove", headers=h,
                       data={"reason_code": "moved_out", "reason": "已搬离本小区"},
                       follow_redirects=False)
    assert done.status_code == 303
    assert client.get(done.headers["location"], headers=h).text.count('class="resident"') == 2
    assert client.get(f"/communities/{CODE}/residents/{rid}/remove",
                      headers=h).status_code == 404
    assert client.get(f"/communities/{CODE}/residents/nonsense/remove",
                      headers=h).status_code == 404


def _rules(client, compound):
    return client.get(f"/api/v1/communities/{CODE}", headers=compound.manager.headers).json()


def test_rules_form_saves_and_the_overview_shows_them(client, compound):
    h = _h(compound.manager)
    form = {"max_out_per_household": "1", "outings_per_window": "2", "window_days": "2",
            "curfew_start": "22:00", "curfew_end": "06:00", "max_out_minutes": "",
            "visitor_approval": "auto", "reason_code": "cases_nearby", "reason": "邻街出现病例"}
    resp = client.post(f"/communities/{CODE}/rules", headers=h, data=form,
                       follow_redirects=False)
    assert resp.status_code == 303
    rules = _rules(client, compound)
    assert (rules["max_out_per_household"], rules["outings_per_window"], rules["window_days"],
            rules["curfew_start"], rules["max_out_minutes"], rules["visitor_approval"]) == \
        (1, 2, 2, "22:00", None, "auto")
    page = client.get(resp.headers["location"], headers=h).text
    assert "The rules were saved." in page and "Curfew 22:00-06:00: no going out." in page
    form_page = client.get(f"/communities/{CODE}/rules", headers=h).text
    assert 'value="22:00"' in form_page and 'value="2"' in form_page


def test_a_bad_curfew_is_shown_and_nothing_changes(client, compound):
    compound.rules(client, max_out_per_household=3)
    h = _h(compound.manager)
    before = _rules(client, compound)
    half = client.post(f"/communities/{CODE}/rules", headers=h,
                       data={"max_out_per_household": "1", "curfew_start": "22:00"})
    assert half.status_code == 422
    assert "both the start and the end" in _text(half.text, "error-curfew_end")
    nonsense = client.post(f"/communities/{CODE}/rules", headers=h,
                           data={"curfew_start": "25:00", "curfew_end": "06:00",
                                 "max_out_per_household": "lots", "window_days": "0"})
    assert nonsense.status_code == 422
    assert "HH:MM" in _text(nonsense.text, "error-curfew_start")
    assert "whole number" in _text(nonsense.text, "error-max_out_per_household")
    assert "1 to 14" in _text(nonsense.text, "error-window_days")
    assert _rules(client, compound) == before


def _csv(*rows: str) -> bytes:
    return ("楼栋,单元,房号,姓名,身份证号,手机号,身份\n" + "\n".join(rows) + "\n").encode()


def test_import_reports_errors_and_imports_valid_rows_when_ticked(client, compound):
    h = _h(compound.manager)
    good = demo_id_number("520102", "19770707", "551")
    sheet = _csv(f"2,1,201,钱七,{good},13900000001,业主",
                 "9,1,101,孙八,520102197707070000,,家属")
    refused = client.post(f"/communities/{CODE}/import", headers=h,
                          files={"file": ("list.csv", sheet)})
    assert refused.status_code == 422
    assert "Nothing was imported" in refused.text
    problems = refused.text.split('id="import-problems"')[1]
    assert "There is no building 9" in problems and ">3<" in problems
    page = client.get(f"/communities/{CODE}/households?building=2", headers=h).text
    assert "钱*" not in page
    done = client.post(f"/communities/{CODE}/import", headers=h,
                       files={"file": ("list.csv", sheet)}, data={"import_valid": "yes"})
    assert done.status_code == 200
    assert "1 residents imported" in _text(done.text, "import-done")
    page = client.get(f"/communities/{CODE}/households?building=2", headers=h).text
    assert "钱*" in page and "Owner" in page
    junk = client.post(f"/communities/{CODE}/import", headers=h,
                       files={"file": ("x.xlsx", b"not a workbook")})
    assert junk.status_code == 422 and 'id="import-message"' in junk.text
    template = client.get(f"/communities/{CODE}/import/template", headers=h)
    assert template.status_code == 200 and "身份证号".encode() in template.content


def test_resident_sees_their_household(client, compound):
    compound.rules(client, max_out_per_household=2, outings_per_window=3)
    _out(client, compound, 1)
    h = _h(compound.residents[0])
    home = client.get("/", headers=h).text
    assert 'href="/community"' in home and 'href="/communities"' not in home
    resp = client.get("/community", headers=h)
    assert resp.status_code == 200
    html = resp.text
    assert "Bldg 1, Unit 1, Room 101" in html and "测试小区" in html
    assert _text(html, "out-meter") == "1"
    assert _text(html, "out-limit") == "at most 2 members out at once"
    assert _text(html, "outing-meter") == "1"
    assert _text(html, "outing-limit").startswith("of 3 allowed since ")
    assert "李*" in _text(html, "out-now")
    assert "At most 2 members of a household out at a time." in html
    assert 'href="/passes/' in html and 'href="/community/visits"' in html
    assert compound.id_numbers[0] not in html


def test_someone_who_lives_nowhere_is_told_so(client, make_persona):
    stranger = make_persona("public")
    home = client.get("/", headers=_h(stranger)).text
    assert 'href="/community"' not in home
    resp = client.get("/community", headers=_h(stranger))
    assert resp.status_code == 200 and 'id="not-resident"' in resp.text


def test_manager_home_links_to_the_compound(client, compound):
    home = client.get("/", headers=_h(compound.manager)).text
    assert 'href="/communities"' in home
