"""A visit shows the visitor's name as the invitation typed it, never the name the registry
holds for the ID number: typing someone's ID number must not tell a resident who they are."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from passtrace.core.clock import local_today
from passtrace.notices.models import Notice
from tests.communities.conftest import CODE, id_number_of


def _invite_as(client: Any, resident: Any, id_number: str, name: str) -> dict[str, Any]:
    resp = client.post("/api/v1/visits", headers=resident.headers, json={
        "name": name, "phone": "13900002222", "id_number": id_number,
        "purpose": "探亲 / family visit", "visit_date": local_today().isoformat()})
    assert resp.status_code == 201, resp.text
    return resp.json()


def test_the_inviter_reads_back_the_name_they_typed_not_the_registrys(  # type: ignore[no-untyped-def]
        client, session, rt, compound, make_persona):
    someone = make_persona("public", name="钱真名")  # the number's holder, known by name
    resident = compound.residents[0]
    visit = _invite_as(client, resident, id_number_of(rt, session, someone), "孙假名")
    assert visit["visitor"] == "孙**"
    mine = client.get("/api/v1/visits", headers=resident.headers).json()["items"]
    assert [v["visitor"] for v in mine if v["id"] == visit["id"]] == ["孙**"]
    one = client.get(f"/api/v1/visits/{visit['id']}", headers=resident.headers).json()
    assert one["visitor"] == "孙**"
    page = client.get("/community/visits", headers=resident.headers).text
    assert "孙**" in page and "钱**" not in page
    # The managers are told, and list, what the invitation said.
    listed = client.get(f"/api/v1/communities/{CODE}/visits",
                        headers=compound.manager.headers).json()["items"]
    assert [v["visitor"] for v in listed if v["id"] == visit["id"]] == ["孙**"]
    told = session.scalars(select(Notice).where(
        Notice.user_id == compound.manager.user.id, Notice.kind == "visit.pending")).all()
    assert told and all(n.params["visitor"] == "孙**" for n in told)
