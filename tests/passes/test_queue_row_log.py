"""Approving from the review queue when another official decided first shows the row again
(the holder's masked name): the holder finds that read in "who viewed my data"."""

from __future__ import annotations

from typing import Any

from tests.audit.helpers import reads_by
from tests.passes.helpers import apply


def _views_by(client: Any, holder: Any, official: Any) -> int:
    return reads_by(client, holder, official, "pass.view")


def test_a_row_refused_because_decided_first_reaches_the_holders_log(client, make_persona):  # type: ignore[no-untyped-def]
    holder = make_persona("public", name="李持证")
    first = make_persona("official", "area", "520102")
    second = make_persona("official", "area", "520102")
    p = apply(client, holder.headers)
    hx = {"HX-Request": "true", "Accept-Language": "en"}
    assert client.post(f"/passes/{p['id']}/approve",
                       headers={**first.headers, **hx}).status_code == 200
    before = _views_by(client, holder, second)
    late = client.post(f"/passes/{p['id']}/approve", headers={**second.headers, **hx})
    assert late.status_code == 200 and "already decided" in late.text and "李**" in late.text
    assert _views_by(client, holder, second) == before + 1
