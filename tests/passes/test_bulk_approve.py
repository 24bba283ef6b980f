"""Bulk approval from the queue: one reason, one audit entry and history row per pass,
and every pass not approved reported with its reason."""

from __future__ import annotations

from sqlalchemy import select

from passtrace.audit.models import AuditEntry
from tests.passes.helpers import apply

BULK = "/api/v1/passes/approve-many"


def _approvals(session, pass_id: str) -> list[AuditEntry]:
    return list(session.scalars(select(AuditEntry).where(
        AuditEntry.action == "pass.approve", AuditEntry.resource_id == pass_id)))


def test_it_approves_each_pass_with_its_own_audit_entry(client, make_persona, session):
    official = make_persona("official", "area", "520102")
    residents = [make_persona("public") for _ in range(3)]
    ids = [apply(client, r.headers)["id"] for r in residents]
    resp = client.post(BULK, json={"pass_ids": ids, "reason": "材料齐全"},
                       headers=official.headers)
    assert resp.status_code == 200, resp.text
    assert sorted(resp.json()["approved"]) == sorted(ids) and resp.json()["refused"] == []
    for pid, resident in zip(ids, residents, strict=True):
        entries = _approvals(session, pid)
        assert len(entries) == 1
        assert entries[0].reason == "材料齐全"
        assert entries[0].subject_person_id == resident.user.person_id
        mine = client.get("/api/v1/passes/mine", headers=resident.headers).json()["items"]
        assert mine[0]["status"] == "approved" and mine[0]["token"].startswith("PT1:")
    # Each pass's own page shows its decision in its history.
    page = client.get(f"/passes/{ids[0]}", headers=official.headers)
    assert "材料齐全" in page.text


def test_out_of_scope_and_already_decided_passes_are_reported(client, make_persona, session):
    official = make_persona("official", "area", "520102")
    resident = make_persona("public")
    ok = apply(client, resident.headers)["id"]
    decided = apply(client, resident.headers)["id"]
    elsewhere = apply(client, resident.headers, areas=["520103"])["id"]
    client.post(f"/api/v1/passes/{decided}/reject", json={"reason": "材料不全"},
                headers=official.headers)
    resp = client.post(BULK, json={"pass_ids": [ok, decided, elsewhere]},
                       headers={**official.headers, "Accept-Language": "en"})
    body = resp.json()
    assert body["approved"] == [ok]
    refused = {r["id"]: r for r in body["refused"]}
    assert set(refused) == {decided, elsewhere}
    assert refused[decided]["code"] == "invalid_state"
    assert "already decided" in refused[decided]["message"]
    assert refused[elsewhere]["code"] == "not_found"
    assert _approvals(session, decided) == [] and _approvals(session, elsewhere) == []


def test_bad_bulk_input_changes_nothing(client, make_persona, session):
    official = make_persona("official", "area", "520102")
    resident = make_persona("public")
    pid = apply(client, resident.headers)["id"]
    for body in ({"pass_ids": []}, {"pass_ids": ["not-an-id"]},
                 {"pass_ids": [pid], "reason": "x" * 501}):
        resp = client.post(BULK, json=body, headers=official.headers)
        assert resp.status_code == 422, resp.text
    assert _approvals(session, pid) == []
    # A resident may not bulk-approve at all.
    assert client.post(BULK, json={"pass_ids": [pid]},
                       headers=resident.headers).status_code == 403


def test_the_queue_page_approves_the_ticked_passes(client, make_persona, session):
    official = make_persona("official", "area", "520102")
    resident = make_persona("public")
    first, second, third = (apply(client, resident.headers)["id"] for _ in range(3))
    outside = apply(client, resident.headers, areas=["520103"])["id"]
    page = client.get("/passes/review", headers=official.headers)
    assert 'id="bulk-form"' in page.text and f'value="{first}" form="bulk-form"' in page.text
    resp = client.post("/passes/review/approve", headers=official.headers,
                       data={"pass_ids": [first, second, outside], "reason": "批量核准"})
    assert resp.status_code == 200
    assert 'id="bulk-result"' in resp.text
    assert f'data-pass-id="{outside}"' in resp.text.split('id="bulk-result"')[1].split("</div>")[0]
    assert len(_approvals(session, first)) == 1 and len(_approvals(session, second)) == 1
    assert _approvals(session, third) == []
    # Nothing ticked: a clear message, nothing approved.
    resp = client.post("/passes/review/approve", headers={**official.headers,
                                                          "Accept-Language": "en"},
                       data={"reason": "x"})
    assert resp.status_code == 422 and "Choose at least one pass." in resp.text
    assert _approvals(session, third) == []
