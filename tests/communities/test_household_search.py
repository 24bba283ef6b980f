"""The household list's search box: a flat as people write it, a name, an ID tail."""

from __future__ import annotations

import re

from passtrace.demo import demo_id_number
from tests.communities.conftest import CODE

FLAT = re.compile(r'id="household-([0-9a-f-]+)"')


def _add(client, manager, name: str, building: str, unit: str, room: str, seq: int) -> str:  # type: ignore[no-untyped-def]
    resp = client.post(f"/api/v1/communities/{CODE}/residents", headers=manager.headers, json={
        "building": building, "unit": unit, "room": room, "role": "owner", "name": name,
        "id_number": demo_id_number("520102", "19700101", f"{seq:03d}")})
    assert resp.status_code == 201, resp.text
    return str(resp.json()["household_id"])


def _found(client, who, q: str) -> set[str]:  # type: ignore[no-untyped-def]
    resp = client.get(f"/communities/{CODE}/households", params={"q": q}, headers=who.headers)
    assert resp.status_code == 200, resp.text
    return set(FLAT.findall(resp.text))


def test_the_manager_finds_a_flat_however_it_is_written(client, compound):
    zhou = _add(client, compound.manager, "周杰", "2", "1", "501", 701)
    other = _add(client, compound.manager, "吴用", "1", "2", "501", 702)
    assert _found(client, compound.manager, "2-1-501") == {zhou}
    assert _found(client, compound.manager, "2栋1单元501室") == {zhou}
    assert _found(client, compound.manager, "２栋５０１") == {zhou}  # full-width, no unit
    assert _found(client, compound.manager, "501") == {zhou, other}
    assert _found(client, compound.manager, "9-9-999") == set()


def test_the_manager_finds_residents_by_name_or_id_tail(client, compound):
    zhou = _add(client, compound.manager, "周杰", "2", "1", "501", 703)
    _add(client, compound.manager, "吴用", "1", "2", "502", 704)
    assert _found(client, compound.manager, "周杰") == {zhou}
    assert _found(client, compound.manager, "周") == {zhou}
    assert _found(client, compound.manager, "张三") == {compound.household_id}
    assert _found(client, compound.manager, "周伦") == set()
    tail = demo_id_number("520102", "19700101", "703")[-4:]
    assert zhou in _found(client, compound.manager, tail)


def test_the_areas_official_runs_the_compound_and_searches_it_too(client, compound,
                                                                  make_persona):
    zhou = _add(client, compound.manager, "周杰", "2", "1", "501", 705)
    assert _found(client, compound.official, "周杰") == {zhou}
    far = make_persona("official", "area", "520103")
    resp = client.get(f"/communities/{CODE}/households", params={"q": "周"}, headers=far.headers)
    assert resp.status_code == 404


def test_long_or_odd_search_text_is_a_message_not_an_error(client, compound, make_persona):
    resp = client.get(f"/communities/{CODE}/households", params={"q": "周" * 80},
                      headers=compound.manager.headers)
    assert resp.status_code == 200 and 'id="form-message"' in resp.text
    assert _found(client, compound.manager, "%_") == set()
    outsider = make_persona("community_manager", "community", "520102006002")
    far = client.get(f"/communities/{CODE}/households", params={"q": "周"},
                     headers=outsider.headers)
    assert far.status_code == 404
