"""At a compound's gate the way a person goes follows from their state; the guard confirms."""

from __future__ import annotations

from tests.communities.conftest import CODE, pass_at_gate


def _auto(client, compound, who: int):
    return pass_at_gate(client, compound.staff, id_number=compound.id_numbers[who],
                        direction="auto")


def _who_is_out(client, compound):
    resp = client.get(f"/api/v1/communities/{CODE}/out", headers=compound.manager.headers)
    assert resp.status_code == 200, resp.text
    return [r["name"] for r in resp.json()["items"]]


def test_a_resident_at_home_goes_out_and_one_who_is_out_comes_back_in(client, compound):
    first = _auto(client, compound, 0)
    assert first["decision"] == "allow" and first["direction"] == "out", first
    assert _who_is_out(client, compound) == ["张*"]
    # Another member of the household is at home: going out too, not "already inside".
    other = _auto(client, compound, 1)
    assert other["direction"] == "out"
    back = _auto(client, compound, 0)
    assert back["decision"] == "allow" and back["direction"] == "in", back
    assert len(_who_is_out(client, compound)) == 1


def test_the_guard_can_still_choose_the_direction(client, compound):
    # An exception: the guard says "in" for a resident the records think is at home.
    chosen = pass_at_gate(client, compound.staff, id_number=compound.id_numbers[0],
                          direction="in")
    assert chosen["direction"] == "in"
    assert _who_is_out(client, compound) == []

