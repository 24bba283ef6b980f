""""Already inside?" looks back one stay cap, in the ids that can hold it (lookback.py).

At the bounds, just inside and just outside, on both databases (the generic path) and
on PostgreSQL's fast path (a database as deployed): an "in" within the site kind's cap
still makes the person inside; an older one has ended at its cap. A move whose id says
more than lookback.ID_SLACK before its own time is refused at intake, so the id bound
that lets PostgreSQL skip the older day partitions never hides a stored move; one just
within the slack is stored and seen.
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


def _post_in(post: Any, who: dict[str, Any], *, at: datetime,
             id_at: datetime | None = None, **base: Any) -> Any:
    return post(reg_body(**base, **who, direction="in", occurred_at=at.isoformat(),
                         id=str(uuid7_at(id_at or at))))


def _came_in(post: Any, who: dict[str, Any], *, at: datetime, id_at: datetime | None = None,
             **base: Any) -> None:
    resp = _post_in(post, who, at=at, id_at=id_at, **base)
    assert resp.status_code == 200, resp.text
    assert resp.json()["decision"] == "allow", resp.text


def _id_slack_case(post: Any, who: dict[str, Any], back: timedelta, accepted: bool,
                   **base: Any) -> None:
    """An "in" an hour ago whose id says ID_SLACK + `back` before it; then a check."""
    at = datetime.now(UTC) - timedelta(hours=1)
    resp = _post_in(post, who, at=at, id_at=at - lookback.ID_SLACK - back, **base)
    if accepted:
        assert resp.status_code == 200, resp.text
    else:
        assert resp.status_code == 422, resp.text
        assert "早一天以上" in str(resp.json()), resp.text  # the reason, in Chinese
    assert ("already_inside" in _again(post, who, **base)) is accepted


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


@pytest.mark.parametrize(("back", "accepted"), [(-MARGIN, True), (MARGIN, False)])
def test_a_move_whose_id_is_a_slack_before_its_time(client, checkpoint, back, accepted):
    def post(body: dict[str, Any]) -> Any:
        return client.post("/api/v1/registrations", json=body, headers=checkpoint.staff.headers)

    _id_slack_case(post, {"token": checkpoint.pass_["token"]}, back, accepted)


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


@pytest.mark.parametrize(("back", "accepted", "n"), [(-MARGIN, True, 4), (MARGIN, False, 5)])
def test_the_fast_path_id_bound(deployed, back, accepted, n):
    client, _, seeded = deployed
    post = lambda body: client.post("/api/v1/registrations", json=body)  # noqa: E731
    _id_slack_case(post, {"token": seeded.pass_tokens[n]}, back, accepted, site=seeded.site)
