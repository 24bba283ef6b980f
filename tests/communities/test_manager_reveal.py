"""A compound's manager reveals what the compound recorded of a current resident (like an
employer's HR), never the registry's values, and nothing once the resident moved out."""

from __future__ import annotations

from tests.communities.conftest import CODE, id_number_of

BODY = {"purpose": "contact_person", "reason": "联系住户核实情况"}


def _reveal(client, who, person_id, field):  # type: ignore[no-untyped-def]
    return client.post(f"/api/v1/people/{person_id}/reveal", json={"field": field, **BODY},
                       headers=who.headers)


def test_the_manager_reads_back_what_the_compound_recorded(client, rt, session, compound,
                                                           make_persona):
    tenant = make_persona("public", name="赵六")  # the registry holds 13800000000
    added = client.post(f"/api/v1/communities/{CODE}/residents", json={
        "building": "2", "unit": "1", "room": "201", "name": "赵六",
        "id_number": id_number_of(rt, session, tenant), "phone": "13900001234",
        "role": "tenant"}, headers=compound.manager.headers)
    assert added.status_code == 201, added.text
    pid = tenant.user.person_id
    phone = _reveal(client, compound.manager, pid, "phone")
    assert phone.status_code == 200 and phone.json()["value"] == "13900001234"
    assert _reveal(client, compound.official, pid, "phone").json()["value"] == "13800000000"
    log = client.get("/api/v1/me/access-log", headers=tenant.headers).json()["items"]
    assert [e["action"] for e in log][:2] == ["person.reveal", "person.reveal"]

    other = make_persona("community_manager", "community", "520102006002")
    assert _reveal(client, other, pid, "phone").status_code == 403
    removed = client.post(f"/api/v1/communities/{CODE}/residents/{added.json()['id']}/remove",
                          json={"reason_code": "moved_out", "reason": "租期已满搬离"},
                          headers=compound.manager.headers)
    assert removed.status_code == 204
    assert _reveal(client, compound.manager, pid, "phone").status_code == 403
