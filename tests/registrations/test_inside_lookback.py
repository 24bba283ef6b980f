""""Already inside?" looks back one stay cap, in the ids that can hold it (lookback.py).

At the bounds, just inside and just outside, on both databases (the generic path) and
on PostgreSQL's fast path (a database as deployed): an "in" within the site kind's cap
still makes the person inside; an older one has ended at its cap. A move whose id is
more than lookback.ID_SLACK before the look-back is not seen (the id bound that lets
PostgreSQL skip the older day partitions).
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from passtrace.registrations import lookback, stays
from tests.registrations.conftest import reg_body
from tests.registrations.deployed import Deployed, serve_deployed

MARGIN = timedelta(minutes=10)  # far enough from the bound for a loaded machine's clock


def uuid7_at(moment: datetime) -> uuid.UUID:
    """A UUIDv7 whose time part is `moment` (a device whose clock said so)."""
    ms = int(moment.timestamp() * 1000)
    rand = int.from_bytes(os.urandom(10), "big")
    value = (ms << 80) | (0x7 << 76) | (((rand >> 62) & 0xFFF) << 64) | (0b10 << 62)
    return uuid.UUID(int=value | (rand & ((1 << 62) - 1)))


def _came_in(post: Any, who: dict[str, Any], *, at: datetime, id_at: datetime | None = None,
             **base: Any) -> None:
    body = reg_body(**base, **who, direction="in", occurred_at=at.isoformat(),
                    id=str(uuid7_at(id_at or at)))
    resp = post(body)
    assert resp.status_code == 200, resp.text
    assert resp.json()["decision"] == "allow", resp.text


def _again(post: Any, who: dict[str, Any], **base: Any) -> list[str]:
    resp = post(reg_body(**base, **who, direction="in"))
    assert resp.status_code == 200, resp.text
    return [r["code"] for r in resp.json()["reasons"]]


def _cap() -> timedelta:
    return stays.cap_for("road_checkpoint")  # the configured default: 12 h


@pytest.mark.parametrize(("back", "inside"), [(-MARGIN, True), (MARGIN, False)])
def test_an_in_counts_for_one_cap(client, checkpoint, back, inside):
    def post(body: dict[str, Any]) -> Any:
        return client.post("/api/v1/registrations", json=body, headers=checkpoint.staff.headers)

    who = {"token": checkpoint.pass_["token"]}
    _came_in(post, who, at=datetime.now(UTC) - _cap() - back)
    assert _again(post, who) == (["already_inside"] if inside else [])


@pytest.mark.parametrize(("back", "seen"), [(-MARGIN, True), (MARGIN, False)])
def test_a_move_whose_id_is_a_slack_before_the_look_back(client, checkpoint, back, seen):
    def post(body: dict[str, Any]) -> Any:
        return client.post("/api/v1/registrations", json=body, headers=checkpoint.staff.headers)

    who = {"token": checkpoint.pass_["token"]}
    now = datetime.now(UTC)
    _came_in(post, who, at=now - timedelta(hours=1),
             id_at=now - _cap() - lookback.ID_SLACK - back)
    assert _again(post, who) == (["already_inside"] if seen else [])


@pytest.fixture(scope="module", name="deployed")
def deployed_fixture() -> Iterator[Deployed]:
    yield from serve_deployed("passtrace_lookback", residents=6)


@pytest.mark.parametrize(("back", "inside", "n"), [(-MARGIN, True, 0), (MARGIN, False, 1)])
@pytest.mark.parametrize("typed", [False, True])
def test_the_fast_path_looks_back_alike(deployed, back, inside, n, typed):
    client, _, seeded = deployed
    base = {"site": seeded.site}
    index = n + (2 if typed else 0)
    who = ({"method": "id_typed", "id_number": seeded.id_numbers[index]} if typed
           else {"token": seeded.pass_tokens[index]})
    _came_in(lambda body: client.post("/api/v1/registrations", json=body), who,
             at=datetime.now(UTC) - _cap() - back, **base)
    reasons = _again(lambda body: client.post("/api/v1/registrations", json=body), who,
                     **base)
    assert ("already_inside" in reasons) is inside, reasons


@pytest.mark.parametrize(("back", "seen", "n"), [(-MARGIN, True, 4), (MARGIN, False, 5)])
def test_the_fast_path_id_bound(deployed, back, seen, n):
    client, _, seeded = deployed
    now = datetime.now(UTC)
    who = {"token": seeded.pass_tokens[n]}
    post = lambda body: client.post("/api/v1/registrations", json=body)  # noqa: E731
    _came_in(post, who, at=now - timedelta(hours=1),
             id_at=now - _cap() - lookback.ID_SLACK - back, site=seeded.site)
    assert ("already_inside" in _again(post, who, site=seeded.site)) is seen
