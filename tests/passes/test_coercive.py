"""Coercive revocations: a reason from the list, the holder told, appeals, four-eyes bulk."""

from __future__ import annotations

import re
import uuid
from pathlib import Path

import pytest
from sqlalchemy import func, select

from passtrace.core.runtime import Runtime
from passtrace.passes import coercion, mass
from passtrace.passes import service as pass_service
from passtrace.passes.models import Pass, Revocation
from tests.concurrency import committed_persona, race
from tests.passes.helpers import apply
from tests.passes.test_race_support import committed_pending_pass

REASONS = Path(__file__).resolve().parents[2] / (
    "src/passtrace/web/templates/passes/_revoke_reasons.html")
EN = {"Accept-Language": "en"}


def _approved(client, holder, official) -> str:  # type: ignore[no-untyped-def]
    p = apply(client, holder.headers)
    assert client.post(f"/api/v1/passes/{p['id']}/approve", json={},
                       headers=official.headers).status_code == 200
    return str(p["id"])


@pytest.fixture
def cast(client, make_persona):  # type: ignore[no-untyped-def]
    holder = make_persona("public", name="张三")
    revoker = make_persona("official", "area", "520102", name="南明区甲")
    colleague = make_persona("official", "area", "520102", name="南明区乙")
    outsider = make_persona("official", "area", "520103", name="云岩区")
    return holder, revoker, colleague, outsider


def _revoke(client, who, pid, code="misuse", reason="通行证借给他人使用"):  # type: ignore[no-untyped-def]
    body = {"reason": reason}
    if code is not None:
        body["reason_code"] = code
    return client.post(f"/api/v1/passes/{pid}/revoke", json=body,
                       headers={**who.headers, **EN})


def test_an_official_cannot_revoke_without_a_reason_from_the_list_and_words(client, cast):
    holder, revoker, _, _ = cast
    pid = _approved(client, holder, revoker)
    missing = _revoke(client, revoker, pid, code=None)
    assert missing.status_code == 422
    assert missing.json()["error"]["fields"] == {"reason_code": "Choose a reason from the list."}
    short = _revoke(client, revoker, pid, reason="ab")
    assert short.status_code == 422 and set(short.json()["error"]["fields"]) == {"reason"}
    bogus = _revoke(client, revoker, pid, code="dislike")
    assert bogus.status_code == 422
    assert client.get(f"/api/v1/passes/{pid}", headers=holder.headers).json()["status"] == \
        "approved"
    done = _revoke(client, revoker, pid)
    assert done.status_code == 200 and done.json()["revoke_reason_code"] == "misuse"


def test_the_holder_sees_a_notice_and_the_reason_on_the_pass_page(client, cast):
    holder, revoker, _, _ = cast
    pid = _approved(client, holder, revoker)
    assert _revoke(client, revoker, pid).status_code == 200
    notices = client.get("/notices", headers=holder.headers).text
    assert "您的通行证已被吊销：通行证借给他人使用。可在通行证页面提出申诉。" in notices
    page = client.get(f"/passes/{pid}", headers=holder.headers).text
    assert "通行证被滥用（出借、复制或在别处使用）" in page and 'id="appeal-form"' in page


def test_the_holder_withdrawing_needs_no_code_and_cannot_appeal(client, cast):
    holder, revoker, _, _ = cast
    pid = _approved(client, holder, revoker)
    assert _revoke(client, holder, pid, code=None, reason="不需要了").status_code == 200
    resp = client.post(f"/api/v1/passes/{pid}/appeal", json={"text": "我想要回来我的通行证"},
                       headers=holder.headers)
    assert resp.status_code == 409
    assert "appeal-form" not in client.get(f"/passes/{pid}", headers=holder.headers).text


def test_an_appeal_end_to_end_a_reversal_issues_a_new_pass(client, cast):
    holder, revoker, colleague, outsider = cast
    pid = _approved(client, holder, revoker)
    _revoke(client, revoker, pid)
    short = client.post(f"/api/v1/passes/{pid}/appeal", json={"text": "不对"},
                        headers=holder.headers)
    assert short.status_code == 422 and "text" in short.json()["error"]["fields"]
    assert client.post(f"/api/v1/passes/{pid}/appeal", json={"text": "我从未把通行证借给别人"},
                       headers=colleague.headers).status_code == 404
    filed = client.post(f"/api/v1/passes/{pid}/appeal", json={"text": "我从未把通行证借给别人"},
                        headers=holder.headers)
    assert filed.status_code == 201, filed.text
    appeal_id = filed.json()["id"]
    assert client.post(f"/api/v1/passes/{pid}/appeal", json={"text": "我想再次申诉一遍可以吗"},
                       headers=holder.headers).status_code == 409
    assert [a["id"] for a in client.get("/api/v1/pass-appeals",
                                        headers=colleague.headers).json()["items"]] == [appeal_id]
    assert client.get("/api/v1/pass-appeals", headers=outsider.headers).json()["items"] == []
    decide = f"/api/v1/pass-appeals/{appeal_id}/decide"
    body = {"outcome": "reversed", "reason": "核实后确认未出借"}
    assert client.post(decide, json=body, headers=revoker.headers).status_code == 403
    assert client.post(decide, json=body, headers=outsider.headers).status_code == 404
    done = client.post(decide, json=body, headers=colleague.headers)
    assert done.status_code == 200 and done.json()["status"] == "reversed"
    assert client.post(decide, json=body, headers=colleague.headers).status_code == 409
    new = client.get(f"/api/v1/passes/{done.json()['reissued_pass_id']}",
                     headers=holder.headers).json()
    old = client.get(f"/api/v1/passes/{pid}", headers=holder.headers).json()
    assert new["status"] == "approved" and new["token"].startswith("PT1:")
    assert old["status"] == "revoked"  # offline checkpoints cannot un-learn a revocation
    assert (new["purpose"], new["areas"], new["plate"], new["valid_until"]) == (
        old["purpose"], old["areas"], old["plate"], old["valid_until"])
    assert "您的申诉成立" in client.get("/notices", headers=holder.headers).text
    actions = [e["action"] for e in client.get("/api/v1/me/access-log",
                                               headers=holder.headers).json()["items"]]
    assert {"pass.appeal", "pass.appeal.reversed", "pass.issue"} <= set(actions)


def test_an_upheld_revocation_stands_and_the_holder_is_told(client, cast):
    holder, revoker, colleague, _ = cast
    pid = _approved(client, holder, revoker)
    _revoke(client, revoker, pid)
    appeal_id = client.post(f"/api/v1/passes/{pid}/appeal", json={"text": "我觉得处罚太重了"},
                            headers=holder.headers).json()["id"]
    done = client.post(f"/api/v1/pass-appeals/{appeal_id}/decide", headers=colleague.headers,
                       json={"outcome": "upheld", "reason": "有门岗录像为证"})
    assert done.status_code == 200 and done.json()["reissued_pass_id"] is None
    assert "维持对通行证的吊销。有门岗录像为证" in client.get(
        "/notices", headers=holder.headers).text
    page = client.get(f"/passes/{pid}", headers=holder.headers).text
    assert "已处理：维持吊销。" in page


def test_the_appeal_pages_work_for_the_holder_and_the_official(client, cast):
    holder, revoker, colleague, _ = cast
    pid = _approved(client, holder, revoker)
    _revoke(client, revoker, pid)
    sent = client.post(f"/passes/{pid}/appeal", headers=holder.headers,
                       data={"text": "我从未把通行证借给别人"}, follow_redirects=False)
    assert sent.status_code == 303
    assert "等待工作人员处理。" in client.get(f"/passes/{pid}", headers=holder.headers).text
    queue = client.get("/pass-appeals", headers=colleague.headers)
    assert queue.status_code == 200 and "我从未把通行证借给别人" in queue.text
    own = client.get("/pass-appeals", headers=revoker.headers).text
    assert "该通行证由您吊销" in own
    appeal_id = re.search(r'action="/pass-appeals/([0-9a-f-]+)/decide"', queue.text).group(1)
    bad = client.post(f"/pass-appeals/{appeal_id}/decide", headers=colleague.headers,
                      data={"outcome": "reversed", "reason": ""})
    assert bad.status_code == 422 and "请说明决定的理由" in bad.text
    ok = client.post(f"/pass-appeals/{appeal_id}/decide", headers=colleague.headers,
                     data={"outcome": "reversed", "reason": "核实后确认未出借"},
                     follow_redirects=False)
    assert ok.status_code == 303
    assert 'id="reissued-pass"' in client.get(f"/passes/{pid}", headers=holder.headers).text
    assert client.get("/pass-appeals", headers=holder.headers).status_code == 403


def test_the_revoke_form_offers_exactly_the_reasons_the_service_accepts(client, cast):
    offered = set(re.findall(r'\("([a-z_]+)", _\(', REASONS.read_text()))
    assert offered == set(coercion.REVOKE_REASONS) - {"visit_cancelled"}
    holder, revoker, _, _ = cast
    pid = _approved(client, holder, revoker)
    page = client.get(f"/passes/{pid}", headers=revoker.headers).text
    assert 'name="reason_code"' in page
    form = client.post(f"/passes/{pid}/revoke", headers=revoker.headers,
                       data={"reason": "核实后吊销"})
    assert form.status_code == 422 and "请从列表中选择原因。" in form.text


def test_more_than_the_threshold_needs_a_second_official(client, rt: Runtime, cast,
                                                         make_persona):
    rt.settings = rt.settings.model_copy(update={"mass_revocation_threshold": 2})
    holder, revoker, colleague, outsider = cast
    few = [_approved(client, holder, revoker) for _ in range(2)]
    many = [_approved(client, holder, revoker) for _ in range(3)]
    now = client.post("/api/v1/pass-revocations", headers=revoker.headers, json={
        "pass_ids": few, "reason_code": "risk_change", "reason": "该街道升为高风险"})
    assert now.status_code == 200 and now.json()["revoked"] == 2
    body = {"pass_ids": many, "reason_code": "risk_change", "reason": "该街道升为高风险"}
    assert client.post("/api/v1/pass-revocations", headers=revoker.headers,
                       json={**body, "reason_code": None}).status_code == 422
    filed = client.post("/api/v1/pass-revocations", headers=revoker.headers, json=body)
    assert filed.status_code == 202 and filed.json()["status"] == "pending"
    rid = filed.json()["id"]
    statuses = {client.get(f"/api/v1/passes/{p}", headers=holder.headers).json()["status"]
                for p in many}
    assert statuses == {"approved"}
    assert client.post(f"/api/v1/pass-revocations/{rid}/approve",
                       headers=revoker.headers).status_code == 403
    assert client.post(f"/api/v1/pass-revocations/{rid}/approve",
                       headers=outsider.headers).status_code == 404
    assert [r["id"] for r in client.get("/api/v1/pass-revocations",
                                        headers=colleague.headers).json()["items"]] == [rid]
    ok = client.post(f"/api/v1/pass-revocations/{rid}/approve", headers=colleague.headers)
    assert ok.status_code == 200 and ok.json()["revoked"] == 3
    assert client.post(f"/api/v1/pass-revocations/{rid}/approve",
                       headers=colleague.headers).status_code == 409
    statuses = {client.get(f"/api/v1/passes/{p}", headers=holder.headers).json()["status"]
                for p in many}
    assert statuses == {"revoked"}


def test_an_outsiders_pass_in_the_list_refuses_the_whole_bulk(client, cast, make_persona):
    holder, revoker, _, outsider = cast
    mine = _approved(client, holder, revoker)
    other_holder = make_persona("public")
    theirs = apply(client, other_holder.headers, areas=["520103001"])["id"]
    resp = client.post("/api/v1/pass-revocations", headers=revoker.headers, json={
        "pass_ids": [mine, theirs], "reason_code": "other", "reason": "批量吊销测试"})
    assert resp.status_code == 403
    assert client.get(f"/api/v1/passes/{mine}", headers=holder.headers).json()["status"] == \
        "approved"


def test_two_officials_approving_at_once_revoke_once(committed_rt, committed_client):  # type: ignore[no-untyped-def]
    rt = committed_rt
    rt.settings = rt.settings.model_copy(update={"mass_revocation_threshold": 1})
    ids = []
    for _ in range(2):
        pass_id, requester = committed_pending_pass(rt.sessions, rt)
        ids.append(pass_id)
    with rt.sessions() as s:
        for pid in ids:
            pass_service.approve(session=s, rt=rt, actor=requester, pass_id=pid)
        request = mass.revoke_many(session=s, rt=rt, actor=requester, pass_ids=ids,
                                   reason_code="risk_change", reason="该街道升为高风险").request
        assert request is not None
        s.commit()
    second = committed_persona(rt, committed_client, "official", "area", "520102")
    third = committed_persona(rt, committed_client, "official", "area", "520102")

    def approve_as(who):  # type: ignore[no-untyped-def]
        return lambda s: mass.decide(session=s, rt=rt, actor=who.principal,
                                     request_id=request.id, approve=True)

    outcomes = race(rt, approve_as(second), approve_as(third))
    assert outcomes.count("ok") == 1, outcomes
    assert set(outcomes) <= {"ok", "Conflict", "busy"}, outcomes
    with rt.sessions() as s:
        assert s.scalar(select(func.count()).select_from(Revocation).where(
            Revocation.pass_id.in_(ids))) == 2
        assert {p.status for p in s.scalars(select(Pass).where(Pass.id.in_(ids)))} == {
            "revoked"}
        from passtrace.audit.models import AuditEntry
        assert s.scalar(select(func.count()).select_from(AuditEntry).where(
            AuditEntry.action == "pass.mass_revoke.approved",
            AuditEntry.resource_id == str(request.id))) == 1


def test_two_officials_deciding_one_appeal_at_once_issue_one_pass(committed_rt,  # type: ignore[no-untyped-def]
                                                                   committed_client):
    from passtrace.accounts import service as account_service
    from passtrace.accounts.models import User
    from passtrace.passes import appeals
    from passtrace.passes.models import PassAppeal
    rt = committed_rt
    pass_id, revoker = committed_pending_pass(rt.sessions, rt)
    with rt.sessions() as s:
        pass_service.approve(session=s, rt=rt, actor=revoker, pass_id=pass_id)
        pass_service.revoke(session=s, actor=revoker, pass_id=pass_id, reason_code="misuse",
                            reason="借给他人使用")
        p = s.get(Pass, pass_id)
        holder = account_service.principal_for(s.scalar(select(User).where(
            User.person_id == p.person_id)))
        appeal = appeals.file(session=s, actor=holder, pass_id=pass_id,
                              text="我从未把通行证借给别人")
        s.commit()
    a = committed_persona(rt, committed_client, "official", "area", "520102")
    b = committed_persona(rt, committed_client, "official", "area", "520102")

    def decide_as(who):  # type: ignore[no-untyped-def]
        return lambda s: appeals.decide(session=s, rt=rt, actor=who.principal,
                                        appeal_id=appeal.id, outcome="reversed",
                                        reason="核实后确认未出借")

    outcomes = race(rt, decide_as(a), decide_as(b))
    assert outcomes.count("ok") == 1, outcomes
    assert set(outcomes) <= {"ok", "Conflict", "busy"}, outcomes
    with rt.sessions() as s:
        person_id = s.get(Pass, pass_id).person_id
        assert s.scalar(select(func.count()).select_from(Pass).where(
            Pass.person_id == person_id, Pass.status == "approved")) == 1
        assert s.get(PassAppeal, appeal.id).status == "reversed"
    _ = uuid
