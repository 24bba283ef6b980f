"""The compound's outing rules at its gates: each rule, and what an allowed pass changes."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from passtrace.communities.compounds.models import Community, Outing
from passtrace.communities.outings import service as outing_service
from passtrace.core.clock import LOCAL_TZ
from passtrace.notices.models import Notice
from passtrace.notices.service import InAppNotifier
from tests.communities.conftest import CODE, GATE, gate_body, pass_at_gate
from tests.passes.helpers import apply, approve


def _codes(out):
    return [r["code"] for r in out["reasons"]]


def _out(client, compound, who: int, **kw):
    return pass_at_gate(client, compound.staff, id_number=compound.id_numbers[who],
                        direction="out", **kw)


def _in(client, compound, who: int, **kw):
    return pass_at_gate(client, compound.staff, id_number=compound.id_numbers[who],
                        direction="in", **kw)


def _who_is_out(client, compound, **params):
    resp = client.get(f"/api/v1/communities/{CODE}/out", params=params,
                      headers=compound.manager.headers)
    assert resp.status_code == 200, resp.text
    return resp.json()["items"]


def test_without_rules_residents_go_out_and_come_back(client, compound):
    out = _out(client, compound, 0)
    assert out["decision"] == "allow", out
    assert any("1栋1单元101" in n for n in out["notes"])  # who this is, on the result screen
    listed = _who_is_out(client, compound)
    assert [r["name"] for r in listed] == ["张*"] and not listed[0]["overdue"]
    back = _in(client, compound, 0)
    assert back["decision"] == "allow"
    assert _who_is_out(client, compound) == []


def test_members_out_at_once(client, compound):
    compound.rules(client, max_out_per_household=1)
    assert _out(client, compound, 0)["decision"] == "allow"
    second = _out(client, compound, 1)
    assert second["decision"] == "deny"
    assert _codes(second) == ["household_out_limit"]
    assert "外出人数已达上限" in second["reasons"][0]["message"]
    assert any("1 / 1" in n for n in second["notes"])
    assert _in(client, compound, 0)["decision"] == "allow"
    assert _out(client, compound, 1)["decision"] == "allow"  # the slot is free again


def test_outings_per_window(client, compound):
    compound.rules(client, outings_per_window=2, window_days=2)
    for who in (0, 1):
        assert _out(client, compound, who)["decision"] == "allow"
        assert _in(client, compound, who)["decision"] == "allow"
    third = _out(client, compound, 2)
    assert _codes(third) == ["outing_quota"]
    assert any("2 / 2" in n for n in third["notes"])
    compound.rules(client, outings_per_window=3, window_days=2)
    assert _out(client, compound, 2)["decision"] == "allow"


def test_outings_before_the_window_do_not_count(client, compound):
    compound.rules(client, outings_per_window=1, window_days=2)
    # Three days ago is before yesterday's midnight, where a 2-day window starts.
    long_ago = datetime.now(UTC) - timedelta(days=3)
    assert _out(client, compound, 0, occurred_at=long_ago.isoformat())["decision"] == "allow"
    assert _in(client, compound, 0, occurred_at=(long_ago + timedelta(hours=1)).isoformat()
               )["decision"] == "allow"
    assert _out(client, compound, 1)["decision"] == "allow"


def test_curfew_stops_going_out_but_not_coming_home(client, compound):
    local = datetime.now(LOCAL_TZ)
    start = (local - timedelta(hours=1)).strftime("%H:%M")
    end = (local + timedelta(hours=1)).strftime("%H:%M")
    compound.rules(client, curfew_start=start, curfew_end=end)
    denied = _out(client, compound, 0)
    assert _codes(denied) == ["curfew"]
    assert any(start in n for n in denied["notes"])  # the rule is on the result screen
    assert _in(client, compound, 0)["decision"] == "allow"
    # A curfew that is over now lets them out.
    later = (local + timedelta(hours=2)).strftime("%H:%M")
    compound.rules(client, curfew_start=end, curfew_end=later)
    assert _out(client, compound, 0)["decision"] == "allow"


def test_every_failed_rule_is_named(client, compound):
    local = datetime.now(LOCAL_TZ)
    compound.rules(client, max_out_per_household=1, outings_per_window=1,
                   curfew_start=(local - timedelta(hours=1)).strftime("%H:%M"),
                   curfew_end=(local + timedelta(hours=1)).strftime("%H:%M"))
    compound.rules(client, max_out_per_household=1, outings_per_window=1)
    assert _out(client, compound, 0)["decision"] == "allow"
    compound.rules(client, max_out_per_household=1, outings_per_window=1,
                   curfew_start=(local - timedelta(hours=1)).strftime("%H:%M"),
                   curfew_end=(local + timedelta(hours=1)).strftime("%H:%M"))
    assert _codes(_out(client, compound, 1)) == ["curfew", "household_out_limit",
                                                 "outing_quota"]


def test_overdue_residents_are_listed_and_the_manager_is_told_once(client, session, rt,
                                                                  compound):
    compound.rules(client, max_out_minutes=60)
    long_ago = (datetime.now(UTC) - timedelta(hours=3)).isoformat()
    assert _out(client, compound, 0, occurred_at=long_ago)["decision"] == "allow"
    assert _out(client, compound, 1)["decision"] == "allow"
    overdue = _who_is_out(client, compound, overdue="true")
    assert [r["name"] for r in overdue] == ["张*"]
    assert overdue[0]["minutes_out"] >= 179
    listed = _who_is_out(client, compound)
    assert [r["overdue"] for r in listed] == [True, False]  # longest out first

    assert outing_service.sweep_overdue(session=session, notifier=InAppNotifier(session)) == 1
    assert outing_service.sweep_overdue(session=session, notifier=InAppNotifier(session)) == 0
    notices = session.scalars(select(Notice).where(
        Notice.user_id == compound.manager.user.id, Notice.kind == "community.overdue")).all()
    assert len(notices) == 1 and notices[0].params["name"] == "张*"
    page = client.get("/notices", headers=compound.manager.headers).text
    assert "张*（1栋1单元101）" in page and "已超时未归" in page
    assert f"/communities/{CODE}/out" in notices[0].link


def test_non_residents_are_refused_at_the_compound_gate(client, compound, make_persona):
    visitor = make_persona("public", name="路人甲")
    p = apply(client, visitor.headers)  # a commute pass for the district covers the gate's area
    approved = approve(client, p["id"], compound.official.headers, visitor.headers)
    out = pass_at_gate(client, compound.staff, token=approved["token"], method="qr",
                       direction="in")
    assert _codes(out) == ["not_resident"]
    assert any("测试小区" in n for n in out["notes"])


def test_household_pass_is_good_at_every_gate_of_the_compound_only(client, session, rt,
                                                                    compound):
    from passtrace.passes.models import Pass
    from passtrace.passes.service import pass_text

    resident = compound.residents[0]
    token = pass_text(vault=rt.vault, p=session.scalars(select(Pass).where(
        Pass.person_id == resident.user.person_id, Pass.purpose == "household")).one())
    assert _codes(pass_at_gate(client, compound.staff, token=token, method="qr",
                               direction="out")) == []
    # At a road checkpoint in the same street the household pass is not a road pass.
    client.post("/api/v1/sites", json={"code": "CP-T-X", "name": "卡口", "kind":
                                       "road_checkpoint", "area_code": "520102006",
                                       "lanes": ["1"]}, headers=compound.official.headers)
    staff = compound.staff  # not on duty there
    resp = client.post("/api/v1/registrations", json=gate_body(site="CP-T-X", token=token,
                                                               method="qr"),
                       headers=staff.headers)
    assert resp.status_code == 404, resp.text  # not a site they may see


def test_a_guards_override_opens_the_outing(client, compound):
    compound.rules(client, max_out_per_household=1)
    _out(client, compound, 0)
    denied = _out(client, compound, 1)
    resp = client.post(f"/api/v1/registrations/{denied['id']}/override",
                       json={"reason": "就医，持医院预约单"}, headers=compound.staff.headers)
    assert resp.status_code == 200, resp.text
    assert len(_who_is_out(client, compound)) == 2


def test_offline_gate_uploads_open_and_close_outings(client, compound):
    now = datetime.now(UTC)
    rows = []
    for i, direction in enumerate(("out", "in", "out")):
        body = gate_body(direction=direction, id_number=compound.id_numbers[2],
                         occurred_at=(now - timedelta(minutes=30 - i * 10)).isoformat(),
                         decision="allow", reasons=[])
        body.pop("sent_at")
        rows.append(body)
    resp = client.post("/api/v1/registrations/batch", json={
        "site": GATE, "device_key": "gate-phone", "sent_at": now.isoformat(),
        "registrations": rows}, headers=compound.staff.headers)
    assert resp.status_code == 200, resp.text
    assert resp.json()["stored"] == 3
    listed = _who_is_out(client, compound)
    assert [r["name"] for r in listed] == ["王*"]
    assert 9 <= listed[0]["minutes_out"] <= 11


def test_week_and_hour_lists(client, compound, clock_stopped):
    # clock_stopped: the passes, the app's "this week" and "today by hour", and the hour
    # read below are one moment, even at the turn of an hour, a day or a week.
    for who in (0, 1):
        _out(client, compound, who)
        _in(client, compound, who)
    _out(client, compound, 0)
    week = client.get(f"/api/v1/communities/{CODE}/outings/week",
                      headers=compound.manager.headers).json()["items"]
    assert week == [{"household_id": compound.household_id, "household": "1栋1单元101",
                     "outings": 3}]
    hours = client.get(f"/api/v1/communities/{CODE}/in-out",
                       headers=compound.manager.headers).json()
    assert sum(hours["exits"]) == 3 and sum(hours["entries"]) == 2
    assert hours["exits"][clock_stopped.astimezone(LOCAL_TZ).hour] == 3


def test_rules_are_validated_and_audited(client, session, compound):
    resp = client.put(f"/api/v1/communities/{CODE}/rules", json={"curfew_start": "22:00"},
                      headers=compound.manager.headers)
    assert resp.status_code == 422
    assert "宵禁" in resp.json()["error"]["message"]
    c = session.scalars(select(Community).where(Community.code == CODE)).one()
    session.refresh(c)
    assert c.curfew_start is None
    for bad in ({"max_out_per_household": 0}, {"curfew_start": "25:00", "curfew_end": "06:00"},
                {"window_days": 99}):
        assert client.put(f"/api/v1/communities/{CODE}/rules", json=bad,
                          headers=compound.manager.headers).status_code == 422
    read = compound.rules(client, curfew_start="22:00", curfew_end="06:00", max_out_minutes=240)
    assert "宵禁 22:00–06:00：禁止外出。" in read["rules"]


def test_only_the_compounds_manager_and_area_officials_see_it(client, compound, make_persona):
    other = make_persona("community_manager", "community", "520102006002")
    far_official = make_persona("official", "area", "520103")
    for who in (other, far_official, compound.residents[0], compound.staff):
        for path in ("", "/out", "/outings/week", "/households", "/in-out"):
            resp = client.get(f"/api/v1/communities/{CODE}{path}", headers=who.headers)
            assert resp.status_code == 404, (path, resp.text)
    assert client.get(f"/api/v1/communities/{CODE}/out",
                      headers=compound.official.headers).status_code == 200
    assert client.put(f"/api/v1/communities/{CODE}/rules", json={},
                      headers=other.headers).status_code == 404


def test_a_resident_who_moves_out_loses_the_gate(client, session, rt, compound):
    from passtrace.passes.models import Pass
    from passtrace.passes.service import pass_text

    token = pass_text(vault=rt.vault, p=session.scalars(select(Pass).where(
        Pass.person_id == compound.residents[2].user.person_id,
        Pass.purpose == "household")).one())
    resp = client.post(f"/api/v1/communities/{CODE}/residents/{compound.resident_ids[2]}/remove",
                       json={"reason_code": "moved_out", "reason": "搬离本小区"},
                       headers=compound.manager.headers)
    assert resp.status_code == 204, resp.text
    assert _codes(pass_at_gate(client, compound.staff, token=token, method="qr",
                               direction="in"))[0] == "revoked"
    typed = _in(client, compound, 2)
    assert "not_resident" in _codes(typed)


def test_moving_out_while_out_leaves_the_out_list(client, compound):
    _out(client, compound, 2)
    client.post(f"/api/v1/communities/{CODE}/residents/{compound.resident_ids[2]}/remove",
                json={"reason_code": "moved_out", "reason": "搬离本小区"},
                headers=compound.manager.headers)
    assert _who_is_out(client, compound) == []


def test_my_household(client, compound):
    _out(client, compound, 1)
    mine = client.get("/api/v1/me/households",
                      headers=compound.residents[0].headers).json()["items"]
    assert len(mine) == 1 and mine[0]["label"] == "1栋1单元101"
    assert mine[0]["out_now"] == 1
    assert {r["name"]: r["out_since"] is not None for r in mine[0]["residents"]} == {
        "张*": False, "李*": True, "王*": False}


def test_outings_are_rows_a_person_can_follow(session, client, compound):
    _out(client, compound, 0)
    _in(client, compound, 0)
    rows = session.scalars(select(Outing)).all()
    assert len(rows) == 1 and rows[0].back_at is not None
    assert rows[0].out_registration_id and rows[0].back_registration_id


def test_the_job_runners_sweep_tells_the_manager_and_queues_the_gateway_copy(
        client, session, rt, compound):
    from passtrace.communities.outings import jobs as outing_jobs
    from passtrace.core.outbox import OutboxMessage

    compound.rules(client, max_out_minutes=30)  # before the gateway: only the sweep queues
    rt.settings = rt.settings.model_copy(update={
        "notify_webhook_url": "http://127.0.0.1:9/never-called-inside-the-sweep",
        "gateway_signing_secret": "s" * 32})
    _out(client, compound, 1, occurred_at=(datetime.now(UTC) - timedelta(hours=1)).isoformat())
    assert outing_jobs.notice_overdue(rt) == 1
    assert outing_jobs.notice_overdue(rt) == 0
    notices = client.get("/notices", headers=compound.manager.headers)
    assert notices.status_code == 200 and "李*" in notices.text and "超时未归" in notices.text
    # The gateway copy waits in the outbox for the job runner (nothing was sent yet).
    queued = session.scalars(select(OutboxMessage)).all()
    assert [(m.channel, m.processed_at) for m in queued] == [("webhook", None)]
    assert "李*" in queued[0].payload["text"] and queued[0].payload["kind"] == "community.overdue"


def test_the_sweep_covers_compounds_with_different_limits(client, session, rt, compound,
                                                          make_persona):
    from tests.communities.conftest import id_number_of

    other, manager2 = "520102006002", make_persona("community_manager", "community",
                                                   "520102006002")
    h = compound.official.headers
    assert client.post("/api/v1/communities", json={"code": other, "name": "第二小区"},
                       headers=h).status_code == 201
    assert client.post("/api/v1/sites", json={
        "code": "GATE-T2", "name": "二区门", "kind": "community_gate", "area_code": "520102006",
        "lanes": ["1"], "community_code": other}, headers=h).status_code == 200
    client.post(f"/api/v1/communities/{other}/buildings", json={"name": "8", "units": ["1"]},
                headers=manager2.headers)
    neighbour = make_persona("public", name="赵六")
    client.post(f"/api/v1/communities/{other}/residents", json={
        "building": "8", "unit": "1", "room": "801", "name": "赵六",
        "id_number": id_number_of(rt, session, neighbour)}, headers=manager2.headers)
    client.put(f"/api/v1/communities/{other}/rules", headers=manager2.headers, json={
        "max_out_minutes": 120, "reason_code": "directive", "reason": "区防控办通知"})
    compound.rules(client, max_out_minutes=30)
    staff2 = make_persona("checkpoint_staff", "site", "GATE-T2")
    ninety_ago = (datetime.now(UTC) - timedelta(minutes=90)).isoformat()
    pass_at_gate(client, staff2, site="GATE-T2", id_number=id_number_of(rt, session, neighbour),
                 occurred_at=ninety_ago)
    _out(client, compound, 0, occurred_at=ninety_ago)
    # 90 minutes: over the first compound's 30, within the second's 120.
    assert outing_service.sweep_overdue(session=session, notifier=InAppNotifier(session)) == 1
    later = datetime.now(UTC) + timedelta(minutes=31)
    assert outing_service.sweep_overdue(session=session, notifier=InAppNotifier(session),
                                  now=later) == 1
    told = {n.user_id for n in session.scalars(select(Notice).where(
        Notice.kind == "community.overdue"))}
    assert told == {compound.manager.user.id, manager2.user.id}
