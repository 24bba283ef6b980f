"""Today's form offers the filer's own recent places: distinct, newest first, no one else's."""

from __future__ import annotations

import re
from datetime import timedelta

from tests.reports.conftest import commute, file, local


def _chips(client, persona) -> list[str]:  # type: ignore[no-untyped-def]
    html = client.get("/reports/today", headers={**persona.headers,
                                                 "Accept-Language": "en"}).text
    return [re.sub(r"\s+", " ", c).strip()
            for c in re.findall(r"<button[^>]*data-recent[^>]*>(.*?)</button>", html, re.S)]


def test_recent_places_are_the_filers_own_distinct_and_newest_first(client, world):  # type: ignore[no-untyped-def]
    alice, bob = world.staff["alice"].persona, world.staff["bob"].persona
    yesterday = world.today - timedelta(days=1)
    assert file(client, alice, yesterday - timedelta(days=1)).status_code == 201
    assert file(client, alice, yesterday).status_code == 201  # the same commute again
    trip = commute(world.today)[:1] + [
        {"area_code": "520103003", "place": "火车站", "arrive_at": local(world.today, "09:00"),
         "mode": "train", "ref": "G1234", "seat": "05车12F"}]
    assert file(client, alice, world.today, stops=trip).status_code == 201
    bob_trip = commute(world.today)[:1] + [
        {"area_code": "520103003", "place": "李家私宅", "arrive_at": local(world.today, "09:00"),
         "mode": "taxi"}]
    assert file(client, bob, world.today, stops=bob_trip).status_code == 201

    chips = _chips(client, alice)
    # Today's stops first (home, then the train), then the commute's office; home by
    # bus differs from home as the first place, so it is a place of its own.
    assert [("家" in c, "火车站" in c, "公司" in c) for c in chips] == [
        (True, False, False), (False, True, False), (False, False, True), (True, False, False)]
    assert "G1234" in chips[1] and "05-12F" in chips[1] and "Train" in chips[1]
    assert "Bus" in chips[3]
    assert not any("李家私宅" in c for c in chips)  # bob's place never shows to alice
    assert any("李家私宅" in c for c in _chips(client, bob))
    # Someone who never filed gets no chips at all.
    assert _chips(client, world.staff["carol"].persona) == []


def test_a_chip_starts_with_what_tells_it_apart(client, world):  # type: ignore[no-untyped-def]
    # A phone cuts a long chip at its end: how the place was reached, then the place,
    # come first, so "by train" and "by bus" to the same office do not look alike.
    alice = world.staff["alice"].persona
    trip = commute(world.today)[:1] + [
        {"area_code": "520103003", "place": "火车站", "arrive_at": local(world.today, "09:00"),
         "mode": "train", "ref": "G1234", "seat": "05车12F"}]
    assert file(client, alice, world.today, stops=trip).status_code == 201
    train = next(c for c in _chips(client, alice) if "G1234" in c)
    assert train.startswith("Train G1234"), train
    assert train.index("火车站") < len(train) - len("火车站") - 1, train  # the area comes last
