"""The officials' pass lists: search, filters, issued passes hidden, keyset paging, access log."""

from __future__ import annotations

import uuid
from datetime import timedelta

from sqlalchemy import select

from passtrace.audit.models import AuditEntry
from passtrace.core.clock import utcnow
from passtrace.passes.models import Pass
from tests.passes.helpers import apply

REVIEW = "/api/v1/passes/review"


def _ids(client, official, **params) -> list[str]:
    resp = client.get(REVIEW, params={"limit": 200, **params}, headers=official.headers)
    assert resp.status_code == 200, resp.text
    return [p["id"] for p in resp.json()["items"]]


def _issued_pass(session, person_id, user_id, purpose: str) -> Pass:
    now = utcnow()
    p = Pass(id=uuid.uuid4(), person_id=person_id, applicant_user_id=user_id, purpose=purpose,
             reason="小区住户", valid_from=now, valid_until=now + timedelta(days=30),
             areas=["520102006"], sites=[], companions=0, area_prefix="520102006",
             status="approved")
    session.add(p)
    session.commit()
    return p


def test_it_finds_a_pass_by_id_tail_plate_and_pass_number(client, make_persona, session):
    official = make_persona("official", "area", "520102")
    alice, bob = make_persona("public"), make_persona("public")
    a = apply(client, alice.headers, plate="贵A12345")
    b = apply(client, bob.headers, plate="贵B67890")
    tail = session.get(Pass, uuid.UUID(b["id"])).person.id_masked[-4:]
    assert _ids(client, official, q=tail) == [b["id"]]
    # Full-width digits and lower case, as a phone keyboard may type them.
    assert _ids(client, official, q="ｂ６７８") == [b["id"]]
    assert _ids(client, official, q="贵a123") == [a["id"]]
    assert _ids(client, official, q=a["id"]) == [a["id"]]
    assert _ids(client, official, q=b["id"].replace("-", "")[:20]) == [b["id"]]
    assert _ids(client, official, q="贵Z99999") == []


def test_it_filters_by_status_and_purpose(client, make_persona):
    official = make_persona("official", "area", "520102")
    resident = make_persona("public")
    commute = apply(client, resident.headers, purpose="commute")
    medical = apply(client, resident.headers, purpose="medical")
    client.post(f"/api/v1/passes/{medical['id']}/approve", json={}, headers=official.headers)
    pending = _ids(client, official, purpose="commute")
    assert commute["id"] in pending and medical["id"] not in pending
    approved = _ids(client, official, status="approved", purpose="medical")
    assert approved == [medical["id"]]
    assert client.get(REVIEW, params={"purpose": "nonsense"},
                      headers=official.headers).status_code == 422


def test_issued_household_and_visitor_passes_are_hidden_unless_asked(client, make_persona,
                                                                    session):
    official = make_persona("official", "area", "520102")
    resident = make_persona("public")
    applied = apply(client, resident.headers)
    client.post(f"/api/v1/passes/{applied['id']}/approve", json={}, headers=official.headers)
    household = _issued_pass(session, resident.user.person_id, resident.user.id, "household")
    visitor = _issued_pass(session, resident.user.person_id, resident.user.id, "visitor")
    default = _ids(client, official, status="approved")
    assert applied["id"] in default
    assert str(household.id) not in default and str(visitor.id) not in default
    everything = _ids(client, official, status="approved", include_issued="true")
    assert {str(household.id), str(visitor.id), applied["id"]} <= set(everything)
    assert _ids(client, official, status="approved", purpose="visitor") == [str(visitor.id)]
    # The page hides them the same way and offers the toggle.
    page = client.get("/passes/review?status=approved", headers=official.headers)
    assert applied["id"] in page.text and str(household.id) not in page.text
    assert 'name="issued"' in page.text
    page = client.get("/passes/review?status=approved&issued=1", headers=official.headers)
    assert str(household.id) in page.text


def test_the_page_pages_with_a_cursor_keeping_the_filter(client, make_persona):
    official = make_persona("official", "area", "520102")
    resident = make_persona("public")
    created = [apply(client, resident.headers, purpose="supply")["id"] for _ in range(3)]
    seen: list[str] = []
    url = "/api/v1/passes/review?limit=2&purpose=supply"
    while url:
        page = client.get(url, headers=official.headers).json()
        seen += [p["id"] for p in page["items"]]
        url = (f"/api/v1/passes/review?limit=2&purpose=supply&cursor={page['next']}"
               if page["next"] else "")
    assert [s for s in seen if s in created] == list(reversed(created))
    bad = client.get("/passes/review?cursor=garbage", headers={
        **official.headers, "Accept": "text/html"})
    assert bad.status_code == 422 and "<html" in bad.text


def test_the_queue_page_links_the_next_page_with_its_filter(client, make_persona, monkeypatch):
    from passtrace.passes import pages
    monkeypatch.setattr(pages, "PAGE_SIZE", 2)
    official = make_persona("official", "area", "520102")
    resident = make_persona("public")
    created = [apply(client, resident.headers, purpose="emergency")["id"] for _ in range(3)]
    first = client.get("/passes/review?purpose=emergency", headers=official.headers)
    assert created[2] in first.text and created[0] not in first.text
    assert 'id="next-page"' in first.text and "purpose=emergency" in first.text
    next_url = first.text.split('href="', first.text.index('id="next-page"') - 400)
    link = [u for u in next_url if u.startswith("/passes/review?") and "cursor=" in u][0]
    second = client.get(link.split('"')[0].replace("&amp;", "&"), headers=official.headers)
    assert created[0] in second.text and created[2] not in second.text


def test_a_list_page_logs_a_view_for_each_holder_on_it(client, make_persona, session):
    official = make_persona("official", "area", "520102")
    alice, bob = make_persona("public"), make_persona("public")
    a = apply(client, alice.headers, plate="贵A11111")
    apply(client, bob.headers, plate="贵A22222")
    client.get(REVIEW, params={"q": "贵A11111"}, headers=official.headers)
    views = session.scalars(select(AuditEntry).where(
        AuditEntry.action == "pass.view", AuditEntry.actor_user_id == official.user.id)).all()
    assert [v.subject_person_id for v in views] == [alice.user.person_id]
    assert views[0].resource_id == a["id"]
