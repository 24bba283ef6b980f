"""A supervisor looking a person up in the audit log by ID number reads that person's
history (a case, a flag, who read what): the person finds the lookup, and an export of
it, in "who viewed my data"."""

from __future__ import annotations

from typing import Any

from passtrace.audit import service as audit_service
from tests.communities.conftest import id_number_of


def _log(client: Any, persona: Any) -> list[dict[str, Any]]:
    resp = client.get("/api/v1/me/access-log", headers=persona.headers)
    assert resp.status_code == 200
    return resp.json()["items"]  # type: ignore[no-any-return]


def test_a_lookup_by_id_number_and_its_export_reach_the_persons_log(  # type: ignore[no-untyped-def]
        client, session, rt, make_persona):
    person = make_persona("public", name="王五")
    official = make_persona("official", "area", "520102")
    audit_service.record(session=session, actor=official.principal, action="person.reveal",
                         resource_type="person", resource_id=str(person.user.person_id),
                         subject_person_id=person.user.person_id, reason="核查联系方式")
    session.commit()
    admin = make_persona("admin")
    # Browsing the log without naming anyone looks nobody up.
    assert client.get("/audit", headers=admin.headers).status_code == 200
    assert [e for e in _log(client, person) if e["actor"] == admin.user.username] == []
    id_number = id_number_of(rt, session, person)
    page = client.get("/audit", params={"person": id_number}, headers=admin.headers)
    assert page.status_code == 200 and "核查联系方式" in page.text
    mine = [e["action"] for e in _log(client, person) if e["actor"] == admin.user.username]
    assert mine == ["audit.view"]
    export = client.get("/audit/export", params={"person": id_number}, headers=admin.headers)
    assert export.status_code == 200 and "person.reveal" in export.text
    # An export carries the data out: it comes first, before the routine reads.
    assert _log(client, person)[0]["action"] == "audit.export"
    shown = client.get("/me/access-log", headers=person.headers).text
    assert "查阅了与您有关的审计记录" in shown and "导出了审计记录" in shown
