"""'Who viewed my data': a reveal stays on the first page however many routine reads follow."""

from __future__ import annotations

from passtrace.audit import service as audit_service
from tests.passes.helpers import apply


def _holder_with_reveal_then_views(client, session, make_persona,  # type: ignore[no-untyped-def]
                                   views=120):
    holder = make_persona("public", name="李四")
    apply(client, holder.headers, areas=["520102006"])  # gives the official a reason to look
    official = make_persona("official", "area", "520102")
    person_id = holder.user.person_id
    resp = client.post(f"/api/v1/people/{person_id}/reveal",
                       json={"field": "phone", "purpose": "contact_person",
                             "reason": "核对联系方式以便通知"},
                       headers=official.headers)
    assert resp.status_code == 200, resp.text
    audit_service.record_many(session=session, actor=official.principal, entries=[
        {"action": "pass.view", "resource_type": "pass", "resource_id": str(n),
         "subject_person_id": person_id} for n in range(views)])
    session.commit()
    return holder, official


def test_reveals_come_first_and_paging_shows_every_entry_once(client, session, make_persona):
    holder, official = _holder_with_reveal_then_views(client, session, make_persona)
    first = client.get("/api/v1/me/access-log", headers=holder.headers)
    assert first.status_code == 200
    assert first.json()["items"][0]["action"] == "person.reveal"
    assert first.json()["items"][0]["actor"] == official.user.username
    seen, cursor, pages = list(first.json()["items"]), first.json()["next"], 1
    while cursor:
        page = client.get("/api/v1/me/access-log", params={"cursor": cursor},
                          headers=holder.headers)
        assert page.status_code == 200
        seen += page.json()["items"]
        cursor, pages = page.json()["next"], pages + 1
    views = [e for e in seen if e["action"] == "pass.view"]
    assert len(views) == 120 and pages >= 3
    assert [e["action"] for e in seen].count("person.reveal") == 1


def test_the_page_shows_the_reveal_first_and_links_the_next_page(client, session, make_persona):
    holder, _ = _holder_with_reveal_then_views(client, session, make_persona)
    html = client.get("/me/access-log", headers=holder.headers).text
    assert html.index("核对联系方式") < html.index("?cursor=")
    assert 'class="sensitive"' in html
    nxt = html.split("/me/access-log?cursor=", 1)[1].split('"', 1)[0]
    second = client.get(f"/me/access-log?cursor={nxt}", headers=holder.headers)
    assert second.status_code == 200 and "核对联系方式" not in second.text


def test_a_forged_cursor_is_a_clear_error_not_a_crash(client, make_persona):
    holder = make_persona("public")
    for bad in ("x1", "s", "s1e9x", "o-1", "s²", "o" + "9" * 23):
        api = client.get("/api/v1/me/access-log", params={"cursor": bad}, headers=holder.headers)
        assert api.status_code == 422, bad
        page = client.get("/me/access-log", params={"cursor": bad}, headers=holder.headers)
        assert page.status_code == 422, bad
