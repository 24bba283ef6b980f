"""Divisions nest by code prefix; the tree is browsable in both languages."""

from __future__ import annotations

from passtrace.core.areacodes import contains, significant_prefix
from passtrace.core.security import Binding, Principal


def test_containment_is_a_prefix_test_on_significant_digits():
    assert significant_prefix("520000") == "52"
    assert significant_prefix("520100") == "5201"
    assert contains("520100", "520102006001")  # Guiyang contains a Nanming community
    assert contains("520102", "520102")
    assert not contains("520102", "520103003")  # Nanming does not contain Yunyan
    assert not contains("520100", "520201")  # Guiyang does not contain Liupanshui


def test_a_city_official_covers_its_districts_and_no_other_city():
    p = Principal(user_id=None, username="x", display_name="x", person_id=None,  # type: ignore[arg-type]
                  bindings=(Binding("official", "area", "520100"),))
    assert p.covers_area("pass.review", "520102006")
    assert not p.covers_area("pass.review", "520302")
    assert not p.covers_area("person.reveal_everything", "520102")


def test_the_tree_lists_children_in_the_callers_language(client, make_persona):
    persona = make_persona("public")
    zh = client.get("/api/v1/areas?parent=520100", headers=persona.headers).json()["items"]
    en = client.get("/api/v1/areas?parent=520100",
                    headers={**persona.headers, "Accept-Language": "en"}).json()["items"]
    assert {"code": "520102", "name": "南明区", "level": "district"} in zh
    assert {"code": "520102", "name": "Nanming District", "level": "district"} in en
    provinces = client.get("/api/v1/areas?limit=200", headers=persona.headers).json()["items"]
    assert {"code": "520000", "name": "贵州省", "level": "province"} in provinces
    assert client.get("/api/v1/areas?parent=abc", headers=persona.headers).status_code == 422
