"""Four eyes: a status set by hand needs a second official over the person (page and API)."""

from __future__ import annotations

import uuid

from sqlalchemy import select

from passtrace.audit.models import AuditEntry
from passtrace.health.models import StatusFlag, StatusProposal
from passtrace.people.models import Person


def _status(session, person_id) -> str:  # type: ignore[no-untyped-def]
    return session.scalar(select(Person.status).where(Person.id == person_id))


def _propose(client, headers, person_id, level="red", **kw):  # type: ignore[no-untyped-def]
    return client.post("/api/v1/health/proposals", headers=headers, json={
        "person_id": str(person_id), "level": level, "reason": "密接核实后需隔离", **kw})


def _decide(client, headers, proposal_id, approve=True, note="核实无误"):  # type: ignore[no-untyped-def]
    return client.post(f"/api/v1/health/proposals/{proposal_id}/decision", headers=headers,
                       json={"approve": approve, "note": note})


def test_a_second_official_approves_and_the_status_changes(client, session, cast) -> None:
    person_id = cast["resident"].user.person_id
    resp = _propose(client, cast["official"].headers, person_id)
    assert resp.status_code == 201, resp.text
    proposal = resp.json()
    assert proposal["state"] == "pending" and _status(session, person_id) == "green"
    # the proposer does not see it in their queue; the second official does
    mine = client.get("/api/v1/health/proposals", headers=cast["official"].headers).json()
    assert proposal["id"] not in [p["id"] for p in mine["items"]]
    theirs = client.get("/api/v1/health/proposals", headers=cast["second"].headers).json()
    assert proposal["id"] in [p["id"] for p in theirs["items"]]
    resp = _decide(client, cast["second"].headers, proposal["id"])
    assert resp.status_code == 200 and resp.json()["state"] == "approved"
    assert _status(session, person_id) == "red"
    # the person sees red, why, and every step in their access log
    me = client.get("/api/v1/health/me", headers=cast["resident"].headers).json()
    assert me["status"] == "red" and me["label"] == "红码"
    assert me["flags"][0]["explanation"].startswith("两名工作人员")
    actions = session.scalars(select(AuditEntry.action).where(
        AuditEntry.subject_person_id == person_id)).all()
    assert {"health.manual.propose", "health.manual.approved", "health.flag.raise"} <= set(
        actions)
    log = client.get("/api/v1/me/access-log",
                     headers=cast["resident"].headers).json()["items"]
    seen = {e["action"] for e in log}
    assert {"health.manual.propose", "health.manual.approved"} <= seen, seen
    # twice is a conflict: the status changed once
    assert _decide(client, cast["admin"].headers, proposal["id"]).status_code == 409


def test_a_status_set_by_hand_is_counted_in_the_persons_area(client, session, cast) -> None:
    """District counts read a flag's area: a status set by hand takes the person's area
    (the pass's 520102006, where the deciding official is responsible)."""
    person_id = cast["resident"].user.person_id
    pid = _propose(client, cast["official"].headers, person_id, level="yellow").json()["id"]
    assert _decide(client, cast["second"].headers, pid).status_code == 200
    session.expire_all()
    flag = session.scalar(select(StatusFlag).where(StatusFlag.person_id == person_id))
    assert flag is not None and flag.source == "manual"
    assert flag.area_code == "520102006"


def test_the_proposer_cannot_approve_through_the_api_or_the_page(client, session,
                                                                   cast) -> None:
    person_id = cast["resident"].user.person_id
    pid = _propose(client, cast["official"].headers, person_id).json()["id"]
    assert _decide(client, cast["official"].headers, pid).status_code == 403
    page = client.post(f"/health/proposals/{pid}/decide", headers=cast["official"].headers,
                       data={"decision": "approve", "note": ""})
    assert page.status_code == 403 and "第二名工作人员" in page.text
    assert _status(session, person_id) == "green"
    assert session.get(StatusProposal, uuid.UUID(pid)).state == "pending"


def test_an_admin_alone_cannot_set_a_status(client, session, cast) -> None:
    person_id = cast["resident"].user.person_id
    resp = _propose(client, cast["admin"].headers, person_id)
    assert resp.status_code == 201
    assert _decide(client, cast["admin"].headers, resp.json()["id"]).status_code == 403
    assert _status(session, person_id) == "green"
    # not by the raw flag API either: there is none for accounts
    assert client.post("/api/v1/health/flags", headers=cast["admin"].headers,
                       json={}).status_code in (404, 405)


def test_an_official_of_another_area_can_neither_propose_nor_approve(client, session,
                                                                      cast) -> None:
    person_id = cast["resident"].user.person_id
    assert _propose(client, cast["other"].headers, person_id).status_code == 404
    pid = _propose(client, cast["official"].headers, person_id).json()["id"]
    assert _decide(client, cast["other"].headers, pid).status_code == 404
    queue = client.get("/api/v1/health/proposals", headers=cast["other"].headers).json()
    assert pid not in [p["id"] for p in queue["items"]]
    assert _status(session, person_id) == "green"


def test_a_resident_gets_403_and_bad_ids_404(client, cast) -> None:
    h = cast["resident"].headers
    person_id = cast["resident"].user.person_id
    assert _propose(client, h, person_id).status_code == 403
    assert client.get(f"/api/v1/health/people/{person_id}", headers=h).status_code == 403
    assert client.get("/api/v1/health/proposals", headers=h).status_code == 403
    o = cast["official"].headers
    assert _propose(client, o, uuid.uuid4()).status_code == 404
    assert _decide(client, o, uuid.uuid4()).status_code == 404
    assert client.get("/api/v1/health/people/not-a-uuid", headers=o).status_code == 422
    assert client.get(f"/api/v1/health/people/{uuid.uuid4()}", headers=o).status_code == 404
    assert client.get("/api/v1/health/proposals?cursor=xyz", headers=o).status_code == 422


def test_refusing_needs_a_note_and_changes_nothing(client, session, cast) -> None:
    person_id = cast["resident"].user.person_id
    pid = _propose(client, cast["official"].headers, person_id).json()["id"]
    assert _decide(client, cast["second"].headers, pid, approve=False, note="").status_code == 422
    resp = _decide(client, cast["second"].headers, pid, approve=False, note="证据不足")
    assert resp.status_code == 200 and resp.json()["state"] == "refused"
    assert _status(session, person_id) == "green"


def test_green_by_hand_clears_every_flag(client, session, cast) -> None:
    from tests.health.conftest import flag

    person_id = cast["resident"].user.person_id
    flag(session, person_id, "red", reason="close_contact")
    flag(session, person_id, "yellow")
    assert _status(session, person_id) == "red"
    pid = _propose(client, cast["official"].headers, person_id, level="green").json()["id"]
    assert _decide(client, cast["second"].headers, pid).status_code == 200
    assert _status(session, person_id) == "green"


def test_the_pages_propose_and_approve(client, session, cast) -> None:
    person_id = cast["resident"].user.person_id
    o, s = cast["official"].headers, cast["second"].headers
    page = client.get(f"/health/people/{person_id}", headers=o)
    assert page.status_code == 200 and 'id="propose-form"' in page.text
    bad = client.post(f"/health/people/{person_id}/propose", headers=o, data={
        "person_id": str(person_id), "level": "red", "reason": "", "until": "明天"})
    assert bad.status_code == 422 and 'value="明天"' in bad.text
    resp = client.post(f"/health/people/{person_id}/propose", headers=o, follow_redirects=False,
                       data={"person_id": str(person_id), "level": "yellow",
                             "reason": "行程存疑待核实", "until": ""})
    assert resp.status_code == 303, resp.text
    queue = client.get("/health/queue", headers=s)
    assert "行程存疑待核实" in queue.text
    pid = session.scalar(select(StatusProposal.id).where(StatusProposal.person_id == person_id))
    resp = client.post(f"/health/proposals/{pid}/decide", headers=s, follow_redirects=False,
                       data={"decision": "approve", "note": ""})
    assert resp.status_code == 303
    assert _status(session, person_id) == "yellow"
    other = client.get(f"/health/people/{person_id}", headers=cast["other"].headers)
    assert other.status_code == 404
    assert client.get(f"/health/people/{person_id}",
                      headers=cast["resident"].headers).status_code == 403
