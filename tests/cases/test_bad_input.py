"""Bad input: 422 naming the field, never a 500, nothing stored."""

from __future__ import annotations

import pytest

from tests.cases.conftest import count_cases, new_case

GOOD = {"id_number": "110101199003074514", "onset_date": "2026-11-20", "area_code": "520102"}


@pytest.mark.parametrize(("change", "field"), [
    ({"id_number": "110101199003074515"}, "id_number"),  # checksum
    ({"id_number": "١١٠١٠١١٩٩٠٠٣٠٧٤٥١٤"}, "id_number"),  # Arabic-Indic digits
    ({"id_number": None}, "id_number"),
    ({"onset_date": "2026-13-01"}, "onset_date"),
    ({"onset_date": "1999-12-31"}, "onset_date"),
    ({"onset_date": "2099-12-30"}, "onset_date"),  # in the future
    ({"onset_date": None}, "onset_date"),
    ({"classification": "asymptomatic"}, "sampling_date"),
    ({"classification": "recovered"}, "classification"),
    ({"area_code": "5201"}, "area_code"),
    ({"area_code": "999999"}, "area_code"),  # no such area
    ({"isolation_date": "2026-11-01"}, "isolation_date"),  # before the window
    ({"person_id": "not-a-uuid"}, "person_id"),
    ({"source": "x" * 201}, "source"),
    ({"colour": "red"}, "colour"),
])
def test_bad_values_are_refused_per_field_and_store_nothing(client, session, cast, change,
                                                           field):
    before = count_cases(session)
    body = {k: v for k, v in {**GOOD, **change}.items() if v is not None}
    resp = client.post("/api/v1/cases", json=body, headers=cast["official"].headers)
    assert resp.status_code == 422, resp.text
    assert field in resp.json()["error"]["fields"], resp.json()
    assert count_cases(session) == before


def test_an_id_number_typed_in_full_width_with_spaces_is_the_same_person(client, cast):
    h = cast["official"].headers
    a = new_case(client, h, id_number="１１０１０１ １９９００３０７ ４５１４")
    client.post(f"/api/v1/cases/{a['id']}/close", json={}, headers=h)
    b = new_case(client, h, id_number="110101199003074514")
    assert a["person"]["person_id"] == b["person"]["person_id"]


def test_an_unknown_person_id_is_not_found(client, cast):
    resp = client.post("/api/v1/cases", headers=cast["official"].headers, json={
        "person_id": "0190a0b0-0000-7000-8000-000000000000", "onset_date": "2026-11-20",
        "area_code": "520102"})
    assert resp.status_code == 404


@pytest.mark.parametrize("change", [
    {"version": 0}, {"version": "one"}, {"onset_date": "tomorrow"},
    {"area_code": "520103"},  # outside the official's jurisdiction
    {"window_start": "2026-11-20", "window_end": "2026-11-01"}, {"notes": "x" * 2001},
])
def test_bad_edits_are_refused_and_change_nothing(client, cast, change):
    h = cast["official"].headers
    c = new_case(client, h)
    resp = client.patch(f"/api/v1/cases/{c['id']}", json={"version": 1, **change}, headers=h)
    assert resp.status_code == 422, resp.text
    assert resp.json()["error"]["fields"]
    after = client.get(f"/api/v1/cases/{c['id']}", headers=h).json()
    assert after["version"] == 1 and after["window_start"] == c["window_start"]


def test_a_stale_version_is_a_conflict_with_a_translated_message(client, cast):
    h = {**cast["official"].headers, "Accept-Language": "zh-CN"}
    c = new_case(client, h)
    assert client.patch(f"/api/v1/cases/{c['id']}", json={"version": 1, "notes": "一"},
                        headers=h).status_code == 200
    stale = client.patch(f"/api/v1/cases/{c['id']}", json={"version": 1, "notes": "二"},
                         headers=h)
    assert stale.status_code == 409
    assert any("\u4e00" <= ch <= "\u9fff" for ch in stale.json()["error"]["message"])
    assert client.get(f"/api/v1/cases/{c['id']}", headers=h).json()["notes"] == "一"


@pytest.mark.parametrize("query", ["status=lost", "classification=x", "area=52",
                                   "cursor=%%%", "limit=0", "limit=999"])
def test_bad_list_filters_are_422(client, cast, query):
    resp = client.get(f"/api/v1/cases?{query}", headers=cast["official"].headers)
    assert resp.status_code == 422, resp.text


def test_closing_twice_is_a_conflict(client, cast):
    h = cast["official"].headers
    c = new_case(client, h)
    assert client.post(f"/api/v1/cases/{c['id']}/close", json={}, headers=h).status_code == 200
    assert client.post(f"/api/v1/cases/{c['id']}/close", json={}, headers=h).status_code == 409
