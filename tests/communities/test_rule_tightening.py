"""Making a compound's outing rules stricter is coercive: a reason from the list plus words,
every household told (gateway copies through the outbox), audited, and appealable."""

from __future__ import annotations

import re
from typing import Any

import pytest
from sqlalchemy import select

from passtrace.audit.models import AuditEntry
from passtrace.communities.compounds import rule_changes
from passtrace.core.outbox import OutboxMessage
from tests.communities.conftest import CODE, id_number_of

RULES = f"/api/v1/communities/{CODE}/rules"
OFF = {"max_out_per_household": None, "outings_per_window": None, "window_days": 1,
       "curfew_start": None, "curfew_end": None, "max_out_minutes": None,
       "visitor_approval": "manual"}


def _put(client, who, **body):  # type: ignore[no-untyped-def]
    return client.put(RULES, json=body, headers=who.headers)


def _rules(client, compound) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    return client.get(f"/api/v1/communities/{CODE}", headers=compound.manager.headers).json()


def _change_id(client, resident) -> str:  # type: ignore[no-untyped-def]
    page = client.get("/notices", headers=resident.headers).text
    found = re.search(r"/community/rule-changes/([0-9a-f-]{36})", page)
    assert found, "the resident's notice links to the change"
    return found.group(1)


@pytest.fixture
def neighbour(client, rt, session, compound, make_persona):  # type: ignore[no-untyped-def]
    """A resident (with a login) of a second household of the compound."""
    persona = make_persona("public", name="赵六")
    resp = client.post(f"/api/v1/communities/{CODE}/residents", json={
        "building": "2", "unit": "1", "room": "201", "name": "赵六",
        "id_number": id_number_of(rt, session, persona), "role": "owner"},
        headers=compound.manager.headers)
    assert resp.status_code == 201, resp.text
    return persona


@pytest.mark.parametrize("rule", [
    {"max_out_per_household": 1}, {"outings_per_window": 2},
    {"curfew_start": "22:00", "curfew_end": "06:00"}, {"max_out_minutes": 120}])
def test_a_stricter_rule_without_a_reason_is_refused_and_changes_nothing(client, compound,
                                                                         rule):
    missing = _put(client, compound.manager, **rule)
    assert missing.status_code == 422
    fields = missing.json()["error"]["fields"]
    assert set(fields) == {"reason_code", "reason"}
    assert fields["reason_code"] == "请从列表中选择原因。"
    short = _put(client, compound.manager, **rule, reason_code="directive", reason="通知")
    assert short.status_code == 422 and set(short.json()["error"]["fields"]) == {"reason"}
    bogus = _put(client, compound.manager, **rule, reason_code="misuse", reason="区里的通知")
    assert bogus.status_code == 422, "a pass-revocation reason is not a rule reason"
    assert {k: _rules(client, compound)[k] for k in OFF} == OFF


def test_loosening_needs_no_reason_and_tells_nobody(client, session, compound):
    compound.rules(client, max_out_per_household=1, curfew_start="21:00", curfew_end="07:00")
    before = len(session.scalars(select(AuditEntry).where(
        AuditEntry.action == "community.rules.tighten")).all())
    resp = _put(client, compound.manager, max_out_per_household=2, curfew_start="22:00",
                curfew_end="06:00")
    assert resp.status_code == 200, resp.text
    assert resp.json()["max_out_per_household"] == 2
    assert len(session.scalars(select(AuditEntry).where(
        AuditEntry.action == "community.rules.tighten")).all()) == before


def test_every_household_is_told_the_reason_and_it_is_audited(client, session, rt, compound,
                                                               neighbour):
    rt.settings = rt.settings.model_copy(update={
        "notify_webhook_url": "http://127.0.0.1:9/never-called-in-the-request",
        "gateway_signing_secret": "s" * 32})
    resp = _put(client, compound.manager, max_out_per_household=1, reason_code="cases_nearby",
                reason="邻街出现确诊病例")
    assert resp.status_code == 200, resp.text
    for resident in (*compound.residents, neighbour):
        notices = client.get("/notices", headers=resident.headers).text
        assert "测试小区收紧了外出规则：邻街出现确诊病例。您可以申诉。" in notices
    entry = session.scalars(select(AuditEntry).where(
        AuditEntry.action == "community.rules.tighten")).one()
    assert entry.reason == "邻街出现确诊病例"
    assert entry.detail["reason_code"] == "cases_nearby"
    assert entry.detail["tightened"] == ["max_out_per_household"]
    # The gateway copies wait in the outbox for the job runner: nothing left the request.
    queued = session.scalars(select(OutboxMessage).where(
        OutboxMessage.channel == "webhook")).all()
    assert len(queued) == 4 and all(m.processed_at is None for m in queued)


def test_the_rules_page_asks_for_the_reason_and_keeps_what_was_typed(client, compound):
    h = compound.manager.headers
    form = client.get(f"/communities/{CODE}/rules", headers=h).text
    for code in rule_changes.RULE_REASONS:
        assert f'value="{code}"' in form
    refused = client.post(f"/communities/{CODE}/rules", headers=h,
                          data={"max_out_per_household": "1", "reason": "邻街出现确诊病例"})
    assert refused.status_code == 422
    assert "请从列表中选择原因。" in refused.text and 'value="邻街出现确诊病例"' in refused.text
    assert _rules(client, compound)["max_out_per_household"] is None
    saved = client.post(f"/communities/{CODE}/rules", headers=h, follow_redirects=False,
                        data={"max_out_per_household": "1", "reason_code": "directive",
                              "reason": "区防控办通知"})
    assert saved.status_code == 303
    assert _rules(client, compound)["max_out_per_household"] == 1


def test_a_resident_appeals_and_another_official_reverses_it(client, compound, make_persona):
    compound.rules(client, max_out_per_household=2)
    tighten = _put(client, compound.official, max_out_per_household=1, reason_code="crowding",
                   reason="超市门口人太多")
    assert tighten.status_code == 200
    resident = compound.residents[1]
    change = _change_id(client, resident)
    page = client.get(f"/community/rule-changes/{change}", headers=resident.headers)
    assert page.status_code == 200 and "超市门口人太多" in page.text
    assert 'id="rule-appeal-form"' in page.text
    short = client.post(f"/community/rule-changes/{change}/appeal", headers=resident.headers,
                        data={"text": "不行"})
    assert short.status_code == 422 and 'id="text-error"' in short.text
    filed = client.post(f"/community/rule-changes/{change}/appeal", headers=resident.headers,
                        data={"text": "家里老人需要两人陪同就医"}, follow_redirects=False)
    assert filed.status_code == 303
    again = client.post(f"/api/v1/community-rule-changes/{change}/appeal",
                        json={"text": "家里老人需要两人陪同就医"}, headers=resident.headers)
    assert again.status_code == 409
    assert "申诉已提交" in client.get(f"/community/rule-changes/{change}",
                                   headers=resident.headers).text

    colleague = make_persona("official", "area", "520102", name="南明区乙")
    far = make_persona("official", "area", "520103", name="云岩区")
    queue = client.get("/api/v1/community-rule-appeals", headers=colleague.headers).json()
    [appeal] = queue["items"]
    assert client.get("/api/v1/community-rule-appeals",
                      headers=far.headers).json()["items"] == []
    decide = f"/api/v1/community-rule-appeals/{appeal['id']}/decide"
    body = {"outcome": "reversed", "reason": "老人就医确需陪同"}
    assert client.post(decide, json=body, headers=far.headers).status_code == 404
    assert client.post(decide, json=body, headers=compound.manager.headers).status_code == 403
    assert client.post(decide, json=body, headers=resident.headers).status_code == 403
    assert client.post(decide, json=body,
                       headers=compound.official.headers).status_code == 403  # made it
    assert client.post(decide, json={"outcome": "reversed", "reason": "ab"},
                       headers=colleague.headers).status_code == 422
    done = client.post(decide, json=body, headers=colleague.headers)
    assert done.status_code == 200 and done.json()["status"] == "reversed"
    assert _rules(client, compound)["max_out_per_household"] == 2
    assert client.post(decide, json=body, headers=colleague.headers).status_code == 409
    assert "申诉成功：已恢复原来的外出规则" in client.get("/notices",
                                                  headers=resident.headers).text


def test_an_upheld_appeal_keeps_the_rule_and_a_later_change_blocks_a_reversal(
        client, compound, make_persona):
    _put(client, compound.official, max_out_minutes=60, reason_code="risk_change",
         reason="本区升为中风险")
    change = _change_id(client, compound.residents[0])
    colleague = make_persona("official", "area", "520102", name="南明区乙")
    ids = []
    for resident in compound.residents[:2]:
        resp = client.post(f"/api/v1/community-rule-changes/{change}/appeal",
                           json={"text": "上班通勤需要两个小时"}, headers=resident.headers)
        assert resp.status_code == 201
        ids.append(resp.json()["id"])
    upheld = client.post(f"/api/v1/community-rule-appeals/{ids[0]}/decide",
                         json={"outcome": "upheld", "reason": "中风险期间必须执行"},
                         headers=colleague.headers)
    assert upheld.status_code == 200 and _rules(client, compound)["max_out_minutes"] == 60
    compound.rules(client, max_out_minutes=45)  # the manager tightened again since
    late = client.post(f"/api/v1/community-rule-appeals/{ids[1]}/decide",
                       json={"outcome": "reversed", "reason": "通勤确需两小时"},
                       headers=colleague.headers)
    assert late.status_code == 409 and _rules(client, compound)["max_out_minutes"] == 45


def test_only_residents_of_the_compound_see_and_appeal_a_change(client, compound,
                                                                make_persona):
    _put(client, compound.manager, max_out_per_household=1, reason_code="directive",
         reason="区防控办通知")
    change = _change_id(client, compound.residents[0])
    stranger = make_persona("public", name="路人")
    assert client.get(f"/community/rule-changes/{change}",
                      headers=stranger.headers).status_code == 404
    assert client.post(f"/api/v1/community-rule-changes/{change}/appeal",
                       json={"text": "我也想申诉一下"},
                       headers=stranger.headers).status_code == 404
    assert client.post(f"/api/v1/community-rule-changes/{change}/appeal",
                       json={"text": "我也想申诉一下"},
                       headers=compound.manager.headers).status_code == 404


def _r(**rules: Any) -> dict[str, Any]:
    return {**OFF, **rules}


@pytest.mark.parametrize(("before", "after", "stricter"), [
    (_r(), _r(max_out_per_household=3), ["max_out_per_household"]),
    (_r(max_out_per_household=3), _r(max_out_per_household=2), ["max_out_per_household"]),
    (_r(max_out_per_household=2), _r(max_out_per_household=3), []),
    (_r(max_out_per_household=2), _r(), []),
    (_r(outings_per_window=2), _r(outings_per_window=3, window_days=2), ["outings_per_window"]),
    (_r(outings_per_window=1), _r(outings_per_window=2, window_days=2), []),
    (_r(outings_per_window=2, window_days=2), _r(outings_per_window=2, window_days=3),
     ["outings_per_window"]),
    (_r(curfew_start="22:00", curfew_end="06:00"), _r(curfew_start="21:30", curfew_end="06:00"),
     ["curfew"]),
    (_r(curfew_start="22:00", curfew_end="06:00"), _r(curfew_start="23:00", curfew_end="05:00"),
     []),
    (_r(curfew_start="22:00", curfew_end="06:00"), _r(curfew_start="05:00", curfew_end="06:00"),
     []),
    (_r(max_out_minutes=120), _r(max_out_minutes=90), ["max_out_minutes"]),
    (_r(visitor_approval="auto"), _r(visitor_approval="manual"), []),
])
def test_what_counts_as_stricter(before, after, stricter):  # type: ignore[no-untyped-def]
    assert rule_changes.tightened(before, after) == stricter
