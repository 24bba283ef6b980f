"""Compound lists send a fixed number of SQL statements, however many rows they show."""

from __future__ import annotations

import itertools

from tests.communities.conftest import CODE
from tests.querycount import assert_constant_queries

_seq = itertools.count(1)


def test_the_building_list_does_not_query_per_building(client, compound, db_engine):
    def listing() -> None:
        resp = client.get(f"/api/v1/communities/{CODE}/buildings",
                          headers=compound.manager.headers)
        assert resp.status_code == 200
        counts = {b["name"]: b["households"] for b in resp.json()["items"]}
        assert counts["1"] == 1 and counts["2"] == 0  # Room 101 is in building 1

    def more_buildings() -> None:
        for _ in range(4):
            resp = client.post(f"/api/v1/communities/{CODE}/buildings",
                               json={"name": f"B{next(_seq)}", "units": ["1"]},
                               headers=compound.manager.headers)
            assert resp.status_code == 201, resp.text

    assert_constant_queries(db_engine, listing, more_buildings)


def test_the_compound_list_does_not_query_per_compound(client, compound, db_engine):
    official = compound.official

    def listing() -> None:
        resp = client.get("/api/v1/communities", headers=official.headers)
        assert resp.status_code == 200
        ours = next(c for c in resp.json()["items"] if c["code"] == CODE)
        assert (ours["buildings"], ours["households"], ours["residents"]) == (2, 1, 3)
        assert len(ours["gates"]) == 2

    def more_compounds() -> None:
        for _ in range(4):
            code = f"520102006{next(_seq) + 100:03d}"
            resp = client.post("/api/v1/communities",
                               json={"code": code, "name": f"计数小区{code}"},
                               headers=official.headers)
            assert resp.status_code == 201, resp.text
            resp = client.post("/api/v1/sites", json={
                "code": f"GATE-C{code[-3:]}", "name": "计数门", "kind": "community_gate",
                "area_code": "520102006", "lanes": ["1"], "community_code": code},
                headers=official.headers)
            assert resp.status_code == 200, resp.text

    assert_constant_queries(db_engine, listing, more_compounds)
