"""What the tracing pages show their users (both databases): one contacts section on the
case page, a task list that leads somewhere and says why it is empty, a chain graph with
a legend, and verification pages with charts, drill-down and a way back."""

from __future__ import annotations

import re
from datetime import timedelta

from fastapi.testclient import TestClient
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from passtrace.core.runtime import Runtime
from passtrace.tracing import verify
from passtrace.tracing.models import Contact, TracingTask
from tests.tracing.verify_world import DAY, build, filed_by
from tests.tracing.world import T0, case, person, reg, site

M = timedelta(minutes=1)
EN = {"Accept-Language": "en"}
CODE = "91520102MA6J5GQX4T"


def _traced(rt: Runtime, session: Session, client: TestClient, make_persona,  # type: ignore[no-untyped-def]
            site_area: str = "520102"):
    """A case in 520102 with one close contact met at a site in site_area."""
    s = site(session, "road_checkpoint", site_area)
    p = person(session, rt, "病例")
    near = person(session, rt, "接触者")
    c = case(session, p, area="520102")
    reg(session, s, p.id_hash, T0)
    reg(session, s, near.id_hash, T0 + 10 * M)
    session.commit()
    mine = make_persona("official", "area", "520102")
    assert client.post(f"/api/v1/cases/{c.id}/contacts/run", json={},
                       headers=mine.headers).status_code == 200
    return c, mine


def test_the_case_page_has_one_contacts_section(rt: Runtime, session: Session,
                                                client: TestClient, make_persona) -> None:  # type: ignore[no-untyped-def]
    c, mine = _traced(rt, session, client, make_persona)
    page = client.get(f"/cases/{c.id}", headers=mine.headers).text
    # The placeholder is replaced whole by the fragment (hx-swap="outerHTML"), which is a
    # section#contacts of its own: one heading, one id, no card inside a card.
    assert page.count('id="contacts"') == 1
    assert re.search(r'id="contacts"[^>]*hx-swap="outerHTML"', page)
    frag = client.get(f"/cases/{c.id}/contacts",
                      headers={**mine.headers, "HX-Request": "true"}).text
    assert frag.count('id="contacts"') == 1 and frag.count("<h2>") == 1
    assert "<h2>接触者</h2>" in frag  # the list holds secondary and general contacts too
    # On a phone the table turns into cards: every cell names its column.
    assert 'class="cards" id="contact-table"' in frag
    assert 'data-label="依据"' in frag and 'data-label="隔离至"' in frag
    # The way to the task list and the chain, for the official working this case.
    assert 'href="/tracing/tasks"' in frag and f'href="/cases/{c.id}/chain"' in frag
    # An English page joins evidence without a Chinese separator.
    en = client.get(f"/cases/{c.id}/contacts", headers={**mine.headers, **EN}).text
    assert "；" not in en and 'class="evidence"' in en


def test_no_reached_share_before_any_close_contact(rt: Runtime, session: Session,
                                                  client: TestClient, make_persona) -> None:  # type: ignore[no-untyped-def]
    p = person(session, rt, "病例")
    c = case(session, p, area="520102")
    session.commit()
    mine = make_persona("official", "area", "520102")
    frag = client.get(f"/cases/{c.id}/contacts",
                      headers={**mine.headers, "HX-Request": "true"}).text
    assert 'id="no-contacts"' in frag and 'id="reached-share"' not in frag  # not "0 / 0"


def test_the_task_list_is_reachable_and_links_to_the_case(rt: Runtime, session: Session,
                                                          client: TestClient,
                                                          make_persona) -> None:  # type: ignore[no-untyped-def]
    c, mine = _traced(rt, session, client, make_persona)
    home = client.get("/", headers=mine.headers).text
    assert 'id="tile-tracing-tasks"' in home and 'href="/tracing/tasks"' in home
    resident_home = client.get("/", headers=make_persona("public").headers).text
    assert 'id="tile-tracing-tasks"' not in resident_home
    page = client.get("/tracing/tasks", headers=mine.headers).text
    assert f'class="case-link" href="/cases/{c.id}"' in page
    assert 'class="cards" id="task-table"' in page and 'data-label="更新状态"' in page
    assert "末次暴露" in page  # the official can tell the contact when they were exposed


def test_no_case_link_where_the_case_is_out_of_reach(rt: Runtime, session: Session,
                                                     client: TestClient, make_persona) -> None:  # type: ignore[no-untyped-def]
    # The contact was met in 520103: its task belongs to that district's officials, who
    # may not open a 520102 case (404); the list does not offer a dead link.
    c, _ = _traced(rt, session, client, make_persona, site_area="520103")
    assert session.scalars(select(TracingTask.area_code)).all() == ["520103"]
    theirs = make_persona("official", "area", "520103")
    page = client.get("/tracing/tasks", headers=theirs.headers).text
    assert 'id="task-table"' in page and f"/cases/{c.id}" not in page
    assert client.get(f"/cases/{c.id}", headers=theirs.headers).status_code == 404


def test_empty_task_lists_say_what_to_expect(client: TestClient, make_persona) -> None:  # type: ignore[no-untyped-def]
    official = make_persona("official", "area", "520102")
    page = client.get("/tracing/tasks", headers=official.headers).text
    assert "为病例查找接触者后" in page
    overdue = client.get("/tracing/tasks?overdue=true", headers=official.headers).text
    assert "没有逾期任务" in overdue


def test_the_chain_has_a_legend_and_scrolls_on_a_phone(rt: Runtime, session: Session,
                                                       client: TestClient, make_persona) -> None:  # type: ignore[no-untyped-def]
    c, mine = _traced(rt, session, client, make_persona)
    page = client.get(f"/cases/{c.id}/chain", headers=mine.headers).text
    assert 'id="chain-legend"' in page and "同一时间在同一场所" in page
    assert 'data-family="place"' in page and 'stroke="#0b5cad"' in page
    assert 'id="chain-wrap"' in page  # the wide SVG scrolls inside, the page does not


def _verified(session: Session, make_persona):  # type: ignore[no-untyped-def]
    w = build(session, credit_code=CODE, area="520102006")
    filer = make_persona("public")
    _, _, r = filed_by(w, filer.user.id)
    session.flush()
    verify.verify(session=session, first=DAY, last=DAY)
    session.commit()
    return w, r, filer


def test_the_summary_draws_the_days_and_explains_an_empty_range(
        session: Session, client: TestClient, make_persona) -> None:  # type: ignore[no-untyped-def]
    w, r, _ = _verified(session, make_persona)
    hr = make_persona("enterprise_admin", "enterprise", CODE)
    page = client.get(f"/verify/enterprises/{w.ent.id}?start={DAY}&end={DAY}",
                      headers=hr.headers).text
    assert 'id="verify-charts"' in page and "每日准确率" in page
    assert "每日矛盾与未报告的到访" in page
    # Drill-down from the person's name as well as the date.
    assert page.count(f'href="/verify/reports/{r.id}"') == 2
    before = DAY - timedelta(days=20)
    empty = client.get(f"/verify/enterprises/{w.ent.id}?start={before}&end={before}",
                       headers=hr.headers).text
    assert 'id="verify-charts"' not in empty
    assert "这些日期的报告尚未核查" in empty and "立即核查这些日期" in empty
    # The empty row spans the whole table (3 columns + one per finding class).
    assert 'colspan="8" class="muted" id="no-days"' in empty


def test_a_report_names_its_places_and_leads_back(session: Session, client: TestClient,
                                                  make_persona) -> None:  # type: ignore[no-untyped-def]
    w, r, filer = _verified(session, make_persona)
    hr = make_persona("enterprise_admin", "enterprise", CODE)
    page = client.get(f"/verify/reports/{r.id}", headers=hr.headers).text
    assert "<th>停留点或登记</th>" in page and "<th>操作</th>" not in page
    assert 'id="back-to-summary"' in page
    assert f"/verify/enterprises/{w.ent.id}?start={DAY}&amp;end={DAY}" in page
    # The registration a stop's finding cites says which stop, instead of a bare dash.
    assert "证实所报第 1 个停留点" in page
    # The filer reading their own findings has no enterprise summary to go back to.
    own = client.get(f"/verify/reports/{r.id}", headers=filer.headers).text
    assert 'id="back-to-summary"' not in own


def _close_and_general(rt: Runtime, session: Session, client: TestClient, make_persona,  # type: ignore[no-untyped-def]
                       *, close_at: int, general_at: int):
    """A case seen at a checkpoint at T0, found by its official's search with two contacts
    there, `close_at` and `general_at` minutes from T0; the second then made general (a
    colleague, as the department search would store it). (case, official, close person,
    general person)."""
    s = site(session, "road_checkpoint", "520102")
    p = person(session, rt, "病例")
    near, colleague = person(session, rt, "密接"), person(session, rt, "同事")
    c = case(session, p, area="520102")
    reg(session, s, p.id_hash, T0)
    reg(session, s, near.id_hash, T0 + close_at * M)
    reg(session, s, colleague.id_hash, T0 + general_at * M)
    session.commit()
    mine = make_persona("official", "area", "520102")
    assert client.post(f"/api/v1/cases/{c.id}/contacts/run", json={},
                       headers=mine.headers).status_code == 200
    session.execute(update(Contact).where(Contact.person_id == colleague.id)
                    .values(kind="general"))
    session.commit()
    return c, mine, near, colleague


def test_close_contacts_head_the_list(rt: Runtime, session: Session, client: TestClient,
                                      make_persona) -> None:  # type: ignore[no-untyped-def]
    # A general contact (a colleague, say) met before the close one: the close contact,
    # the person to reach today, still comes first on the page and in the API.
    c, mine, late, early = _close_and_general(rt, session, client, make_persona,
                                              close_at=20, general_at=-5)
    items = client.get(f"/api/v1/cases/{c.id}/contacts", headers=mine.headers).json()["items"]
    assert [i["kind"] for i in items] == ["close", "general"]
    page = client.get(f"/cases/{c.id}/contacts", headers=mine.headers).text
    assert page.index(late.id_masked) < page.index(early.id_masked)
    # Paging keeps that order across pages.
    first = client.get(f"/api/v1/cases/{c.id}/contacts?limit=1", headers=mine.headers).json()
    rest = client.get(f"/api/v1/cases/{c.id}/contacts?limit=1&cursor={first['next']}",
                      headers=mine.headers).json()
    assert [first["items"][0]["kind"], rest["items"][0]["kind"]] == ["close", "general"]


def test_the_home_tile_counts_overdue_tasks(rt: Runtime, session: Session, client: TestClient,
                                            make_persona) -> None:  # type: ignore[no-untyped-def]
    _, mine = _traced(rt, session, client, make_persona)
    home = client.get("/", headers=mine.headers).text
    assert "件逾期" not in home  # due in 24 hours: nothing late yet
    session.execute(update(TracingTask).values(due_at=T0))  # long past
    session.commit()
    home = client.get("/", headers=mine.headers).text
    assert "1 件逾期" in home and 'href="/tracing/tasks?overdue=true"' in home
    # Another district's official has nothing late.
    other = make_persona("official", "area", "520103")
    assert "件逾期" not in client.get("/", headers=other.headers).text


def test_a_general_contact_shows_no_quarantine_date(rt: Runtime, session: Session,
                                                    client: TestClient, make_persona) -> None:  # type: ignore[no-untyped-def]
    import csv
    import io

    # A colleague found by the department search is a general contact: watched, not
    # quarantined.
    c, mine, near, colleague = _close_and_general(rt, session, client, make_persona,
                                                  close_at=10, general_at=12)
    close = session.scalars(select(Contact).where(Contact.person_id == near.id)).one()
    general = session.scalars(select(Contact).where(Contact.person_id == colleague.id)).one()
    frag = client.get(f"/cases/{c.id}/contacts", headers=mine.headers).text
    cells = dict(re.findall(r'<tr data-contact="([^"]+)">.*?data-label="隔离至">(.*?)</td>',
                            frag, re.S))
    assert cells[str(close.id)] == str(close.quarantine_until)
    assert ">—</span>" in cells[str(general.id)]
    assert 'title="一般接触者只需观察，无需隔离。"' in cells[str(general.id)]
    assert 'id="general-note"' in frag
    en = client.get(f"/cases/{c.id}/contacts", headers={**mine.headers, **EN}).text
    assert "General contacts are watched, not quarantined." in en
    # The exported list says the same; the API's JSON keeps the field for every contact.
    export = client.post(f"/api/v1/cases/{c.id}/contacts/export", json={},
                         headers=mine.headers)
    rows = list(csv.reader(io.StringIO(export.content.decode("utf-8-sig"))))
    col, kind = rows[0].index("quarantine_until"), rows[0].index("kind")
    by_kind = {r[kind]: r[col] for r in rows[1:]}
    assert by_kind == {"close": str(close.quarantine_until), "general": ""}
    listed = client.get(f"/api/v1/cases/{c.id}/contacts", headers=mine.headers).json()
    assert all(item["quarantine_until"] for item in listed["items"])


def test_an_overdue_task_has_a_label_badge(rt: Runtime, session: Session, client: TestClient,
                                           make_persona) -> None:  # type: ignore[no-untyped-def]
    _, mine = _traced(rt, session, client, make_persona)
    session.execute(update(TracingTask).values(due_at=T0))  # long past
    session.commit()

    def badge(lang: str) -> str:
        html = client.get("/tracing/tasks", headers={**mine.headers, "Accept-Language": lang}).text
        return html.split('class="badge rejected overdue-badge">')[1].split("<")[0]

    assert badge("zh-CN") == "已逾期"
    assert badge("en") == "Past due"  # a label, not the lowercase word "overdue"
