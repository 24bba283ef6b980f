"""The dashboard's red and yellow counts open the list of the people behind them: masked
names, the viewer's areas only, paged, and each person listed sees the read."""

from __future__ import annotations

import re

from sqlalchemy import select

from passtrace.audit.models import AuditEntry
from tests.health.conftest import flag, new_person


def _names(html: str) -> list[str]:
    """The names in the list, linked or not (not: outside the viewer's jurisdiction)."""
    return re.findall(r'(?:<a href="/health/people/[^"]+">|<span title="[^"]*">)([^<]*)</',
                      html.split('id="flagged-list"')[1].split("</table>")[0])


def _world(session, rt):  # type: ignore[no-untyped-def]
    red = new_person(session, rt)
    yellow = new_person(session, rt)
    elsewhere = new_person(session, rt)
    flag(session, red.id, "yellow", area_code="520102001")
    flag(session, red.id, "red", area_code="520102001")
    flag(session, yellow.id, "yellow", area_code="520102003")
    flag(session, elsewhere.id, "red", area_code="520103001")
    session.commit()
    return red, yellow, elsewhere


def test_the_red_count_opens_the_red_people_of_my_district(client, session, rt,
                                                            make_persona) -> None:
    red, yellow, elsewhere = _world(session, rt)
    me = make_persona("official", "area", "520102")
    board = client.get("/dashboard", headers=me.headers).text
    link = re.search(r'<li>红码 <a href="([^"]+)">(\d+)</a>', board)
    assert link and link.group(2) == "1", board
    href = link.group(1).replace("&amp;", "&")
    assert href == "/health/flagged?level=red&area=520102"
    before = session.scalar(select(AuditEntry.id).order_by(AuditEntry.id.desc()).limit(1))
    page = client.get(href, headers=me.headers)
    assert page.status_code == 200, page.text
    assert _names(page.text) == [red.name_masked]
    assert red.id_masked in page.text and elsewhere.id_masked not in page.text
    # The read reaches the listed person's access log, and nobody else's.
    read = session.scalars(select(AuditEntry.subject_person_id).where(
        AuditEntry.id > before, AuditEntry.action == "health.view")).all()
    assert read == [red.id]
    yellows = client.get("/health/flagged?level=yellow", headers=me.headers)
    assert _names(yellows.text) == [yellow.name_masked]


def test_another_district_is_not_found_and_a_resident_is_refused(client, session, rt,
                                                                 make_persona) -> None:
    _world(session, rt)
    other = make_persona("official", "area", "520103")
    assert client.get("/health/flagged?level=red&area=520102",
                      headers=other.headers).status_code == 404
    resident = make_persona("public")
    assert client.get("/health/flagged?level=red", headers=resident.headers
                      ).status_code == 403
    me = make_persona("official", "area", "520102")
    bad = client.get("/health/flagged?level=purple", headers=me.headers)
    assert bad.status_code == 422 and "请选择红码或黄码" in bad.text


def test_the_list_pages_through_everyone(client, session, rt, make_persona,
                                        monkeypatch) -> None:
    monkeypatch.setattr("passtrace.health.pages.DEFAULT_LIMIT", 2)
    people = [new_person(session, rt) for _ in range(3)]
    for p in people:
        flag(session, p.id, "red", area_code="520102001")
    session.commit()
    me = make_persona("official", "area", "520102")
    first = client.get("/health/flagged?level=red", headers=me.headers).text
    nxt = re.search(r'id="flagged-next" href="([^"]+)"', first)
    assert nxt and len(re.findall(r"data-person=", first)) == 2
    second = client.get(nxt.group(1).replace("&amp;", "&"), headers=me.headers).text
    shown = re.findall(r'data-person="([^"]+)"', first) + re.findall(
        r'data-person="([^"]+)"', second)
    assert sorted(shown) == sorted(str(p.id) for p in people)
    assert 'id="flagged-next"' not in second


def test_the_api_gives_the_same_people_paged_and_audited(client, session, rt,
                                                         make_persona) -> None:
    red, yellow, elsewhere = _world(session, rt)
    more = new_person(session, rt)
    flag(session, more.id, "red", area_code="520102002")
    session.commit()
    me = make_persona("official", "area", "520102")
    before = session.scalar(select(AuditEntry.id).order_by(AuditEntry.id.desc()).limit(1))
    first = client.get("/api/v1/health/flagged?level=red&limit=1", headers=me.headers)
    assert first.status_code == 200, first.text
    body = first.json()
    assert len(body["items"]) == 1 and body["next"]
    second = client.get(f"/api/v1/health/flagged?level=red&limit=1&cursor={body['next']}",
                        headers=me.headers).json()
    items = body["items"] + second["items"]
    assert sorted(i["id"] for i in items) == sorted([str(red.id), str(more.id)])
    assert all(i["level"] == "red" and "*" in i["id_masked"] for i in items)
    assert second["next"] is None
    read = session.scalars(select(AuditEntry.subject_person_id).where(
        AuditEntry.id > before, AuditEntry.action == "health.view")).all()
    assert sorted(read) == sorted([red.id, more.id])
    # The persona rule, and bad input as a translated 422.
    other = make_persona("official", "area", "520103")
    assert client.get("/api/v1/health/flagged?area=520102",
                      headers=other.headers).status_code == 404
    assert client.get("/api/v1/health/flagged", headers=make_persona("public").headers
                      ).status_code == 403
    for query in ("level=purple", "area=52010", "cursor=nonsense"):
        bad = client.get(f"/api/v1/health/flagged?{query}", headers=me.headers)
        assert bad.status_code == 422, (query, bad.text)
    # A division code typed in full-width digits is the same code.
    wide = client.get("/api/v1/health/flagged?level=yellow&area=５２０１０２", headers=me.headers)
    assert [i["id"] for i in wide.json()["items"]] == [str(yellow.id)]


def test_a_person_outside_my_jurisdiction_is_listed_but_not_linked(client, session, rt,
                                                                   make_persona) -> None:
    """The list goes by where the flag's reason arose; the person's own page by where
    they are known: no link that would answer 404."""
    red, _, _ = _world(session, rt)
    me = make_persona("official", "area", "520102")
    page = client.get("/health/flagged?level=red", headers=me.headers).text
    assert red.name_masked in page
    assert f'href="/health/people/{red.id}"' not in page  # known in no area of mine
    assert client.get(f"/health/people/{red.id}", headers=me.headers).status_code == 404
    assert "在本辖区产生的有效标记中最高为红码的人员" in page
