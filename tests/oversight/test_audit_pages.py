"""Supervisors review the audit log: filtered, paged, exported (audited), and unusual access."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from passtrace.audit import service as audit_service
from passtrace.audit.models import AuditEntry
from passtrace.core import clock
from passtrace.people import service as people_service
from tests.conftest import next_id_number


@pytest.fixture
def frozen():  # type: ignore[no-untyped-def]
    yield clock.freeze
    clock.freeze(None)


def _reveal(session, actor, person_id=None, reason="核查", n=1):  # type: ignore[no-untyped-def]
    for _ in range(n):
        audit_service.record(session=session, actor=actor.principal, action="person.reveal",
                             resource_type="person", resource_id=str(person_id or ""),
                             subject_person_id=person_id, reason=reason)
    session.commit()


def _actions(html: str, username: str) -> int:
    return html.count(f">{username}<")


def test_an_official_sees_what_users_in_their_area_did_an_admin_sees_all(
        client, session, make_persona):
    boss = make_persona("official", "area", "520102")
    mine = make_persona("official", "area", "520102006")
    other = make_persona("official", "area", "520103")
    admin = make_persona("admin")
    _reveal(session, mine, reason="我辖区的")
    _reveal(session, other, reason="别的区的")
    own = client.get("/audit", headers=boss.headers)
    assert own.status_code == 200
    assert "我辖区的" in own.text and "别的区的" not in own.text
    everything = client.get("/audit", headers=admin.headers).text
    assert "我辖区的" in everything and "别的区的" in everything
    outside = client.get("/audit", params={"area": "520103"}, headers=boss.headers)
    assert outside.status_code == 403 and "别的区的" not in outside.text
    for nobody in (make_persona("public"), make_persona("checkpoint_staff", "site", "x")):
        assert client.get("/audit", headers=nobody.headers).status_code == 403
        assert client.get("/audit/export", headers=nobody.headers).status_code == 403


def test_filters_by_actor_action_person_and_time(client, session, rt, make_persona, frozen):
    admin = make_persona("admin")
    a, b = make_persona("official", "area", "520102"), make_persona("official", "area", "520102")
    id_number = next_id_number()
    person = people_service.register(session=session, vault=rt.vault, actor=None,
                                     id_number=id_number, name="王五", phone="13900000000")
    frozen(datetime(2026, 11, 20, 3, 0, tzinfo=UTC))
    _reveal(session, a, person.id, reason="旧的查看")
    frozen(datetime(2026, 11, 28, 3, 0, tzinfo=UTC))
    _reveal(session, a, person.id, reason="新的查看")
    _reveal(session, b, reason="别人查看")
    frozen(None)

    def reasons(**params: str) -> set[str]:
        resp = client.get("/audit", params=params, headers=admin.headers)
        assert resp.status_code == 200, resp.text
        return {r for r in ("旧的查看", "新的查看", "别人查看") if r in resp.text}

    assert reasons(actor=str(a.user.id)) == {"旧的查看", "新的查看"}
    assert reasons(person=id_number) == {"旧的查看", "新的查看"}
    recent = {"from": "2026-11-25", "to": "2026-11-30"}
    assert reasons(person=id_number, **recent) == {"新的查看"}
    assert reasons(action="person.", actor=str(b.user.id)) == {"别人查看"}
    assert reasons(action="pass.view") == set()
    bad = client.get("/audit", params={"person": "12345"}, headers=admin.headers)
    assert bad.status_code == 422 and "18" in bad.text
    for junk in ({"before": str(2**64)}, {"area": "52０1"}, {"from": "9999-99-99"},
                 {"from": "0001-01-01"}, {"to": "9999-12-31"}):
        assert client.get("/audit", params=junk, headers=admin.headers).status_code == 422, junk
    backwards = client.get("/audit", params={"from": "2026-11-30", "to": "2026-11-01"},
                           headers=admin.headers)
    assert backwards.status_code == 422


def test_keyset_pages_cover_every_entry_once(client, session, make_persona):
    admin = make_persona("admin")
    actor = make_persona("official", "area", "520102")
    for n in range(60):
        audit_service.record(session=session, actor=actor.principal, action="pass.view",
                             resource_type="pass", resource_id=f"p{n:03d}")
    session.commit()
    seen: list[str] = []
    url = f"/audit?actor={actor.user.id}"
    while url:
        html = client.get(url, headers=admin.headers).text
        seen += [f"p{n:03d}" for n in range(60) if f'data-record="p{n:03d}"' in html]
        url = (html.split('" id="audit-next"')[0].rsplit('<a href="', 1)[1].replace("&amp;", "&")
               if 'id="audit-next"' in html else "")
    assert sorted(seen) == [f"p{n:03d}" for n in range(60)] and len(seen) == 60


def test_the_export_is_formula_safe_and_itself_audited(client, session, make_persona):
    admin = make_persona("admin")
    actor = make_persona("official", "area", "520102")
    _reveal(session, actor, reason="=HYPERLINK(\"http://evil\")")
    wanted = {"actor": str(actor.user.id), "action": "person.reveal"}
    resp = client.get("/audit/export", params=wanted, headers=admin.headers)
    assert resp.status_code == 200 and resp.headers["content-type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(resp.content.decode("utf-8-sig"))))
    assert rows[0][:3] == ["id", "position", "time_utc"]
    assert [r[8] for r in rows[1:]] == ["'=HYPERLINK(\"http://evil\")"]
    export = session.scalars(select(AuditEntry).where(AuditEntry.action == "audit.export")
                             .order_by(AuditEntry.id.desc())).first()
    assert export is not None and export.actor_name == admin.user.username
    assert export.detail == wanted


def test_unusual_access_lists_bursts_and_reveals_at_night(client, session, make_persona, frozen):
    admin = make_persona("admin")
    busy = make_persona("official", "area", "520102")
    calm = make_persona("official", "area", "520102")
    monday_10am_local = datetime(2026, 11, 30, 2, 0, tzinfo=UTC)
    for n in range(20):  # the default threshold: 20 within 60 minutes
        frozen(monday_10am_local + timedelta(minutes=2 * n))
        _reveal(session, busy, reason=f"批量{n}")
    for n in range(19):  # one short of it, spread over the day
        frozen(monday_10am_local + timedelta(minutes=20 * n))
        _reveal(session, calm, reason="白天")
    frozen(datetime(2026, 11, 30, 15, 30, tzinfo=UTC))  # 23:30 local
    _reveal(session, calm, reason="深夜查看")
    frozen(None)
    html = client.get("/audit/unusual", params={"from": "2026-11-30", "to": "2026-11-30"},
                      headers=admin.headers).text
    bursts = html.split('id="bursts"')[1].split("</table>")[0]
    assert str(busy.user.id) in bursts and str(calm.user.id) not in bursts
    # Who, as role and office: no login name anywhere on the page.
    assert "防控办工作人员 · 南明区" in bursts
    assert busy.user.username not in html and calm.user.username not in html
    night = html.split('id="off-hours"')[1].split("</table>")[0]
    assert "深夜查看" in night and "白天" not in night and "批量" not in night
    too_long = client.get("/audit/unusual", params={"from": "2026-01-01", "to": "2026-11-30"},
                          headers=admin.headers)
    assert too_long.status_code == 422
    for extreme in ({"from": "0001-01-01", "to": "0001-01-02"}, {"to": "9999-12-31"},
                    {"to": "0001-01-01"}):
        resp = client.get("/audit/unusual", params=extreme, headers=admin.headers)
        assert resp.status_code == 422, (extreme, resp.status_code)


def test_the_actor_filter_is_a_list_of_roles_and_offices(client, session, make_persona):
    boss = make_persona("official", "area", "520102", name="南明区督查")
    mine = make_persona("community_manager", "community", "520102006001", name="物业甲")
    other = make_persona("official", "area", "520103", name="云岩区专员")
    _reveal(session, mine, reason="小区查看")
    html = client.get("/audit", headers={**boss.headers, "Accept-Language": "zh-CN"}).text
    picker = html.split('id="audit-actor"')[1].split("</select>")[0]
    assert f'value="{mine.user.id}"' in picker and f'value="{other.user.id}"' not in picker
    assert "社区管理员" in picker
    for p in (boss, mine, other):
        assert p.user.username not in html
    picked = client.get("/audit", params={"actor": str(mine.user.id)}, headers=boss.headers)
    assert picked.status_code == 200 and "小区查看" in picked.text
    # Someone outside the area shows nothing, a typed login name is refused clearly.
    outside = client.get("/audit", params={"actor": str(other.user.id)}, headers=boss.headers)
    assert outside.status_code == 200 and "小区查看" not in outside.text
    typed = client.get("/audit", params={"actor": mine.user.username}, headers=boss.headers)
    assert typed.status_code == 422 and "小区查看" not in typed.text


def test_two_staff_with_the_same_role_are_told_apart_in_each_languages_brackets(
        client, session, make_persona):
    boss = make_persona("official", "area", "520102", name="南明区督查")
    first = make_persona("community_manager", "community", "520102006001", name="Manager A")
    second = make_persona("community_manager", "community", "520102006001", name="Manager B")
    for p in (first, second):
        _reveal(session, p, reason="小区查看")

    def picker(lang: str) -> str:
        html = client.get("/audit", headers={**boss.headers, "Accept-Language": lang}).text
        return html.split('id="audit-actor"')[1].split("</select>")[0]

    english = picker("en")
    assert " (Manager A)</option>" in english and "（" not in english
    assert "（Manager B）</option>" in picker("zh-CN")


def test_the_actor_filter_never_shows_a_login_name_kept_as_display_name(
        client, session, make_persona):
    boss = make_persona("official", "area", "520102", name="南明区督查")
    first = make_persona("community_manager", "community", "520102006001", name="")
    second = make_persona("community_manager", "community", "520102006001", name="")
    assert first.user.display_name == first.user.username  # made without a name
    for p in (first, second):
        _reveal(session, p, reason="小区查看")
    html = client.get("/audit", headers={**boss.headers, "Accept-Language": "zh-CN"}).text
    picker = html.split('id="audit-actor"')[1].split("</select>")[0]
    assert f'value="{first.user.id}"' in picker and "社区管理员" in picker
    assert first.user.username not in html and second.user.username not in html

