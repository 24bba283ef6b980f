"""The chain graph stays readable: grouped by place past a threshold, capped in nodes."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, timedelta

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from passtrace.core.runtime import Runtime
from passtrace.tracing import chain
from passtrace.tracing.models import Contact
from tests.tracing.world import case, person

T = datetime(2026, 11, 10, 2, tzinfo=UTC)


def _contact(depth: int, site: str, via: uuid.UUID | None = None) -> Contact:
    return Contact(id=uuid.uuid4(), case_id=uuid.uuid4(), person_hash=uuid.uuid4().hex,
                   person_id=None, kind="close" if depth == 1 else "secondary", depth=depth,
                   via_contact_id=via, first_exposure=T, last_exposure=T,
                   quarantine_until=date(2026, 11, 24), area_code="520102",
                   evidence=[{"kind": "same_site_window", "site": site}])


def test_a_small_chain_draws_every_person_with_its_edge() -> None:
    a = _contact(1, "s1")
    b = _contact(2, "s2", via=a.id)
    g = chain.as_dict(chain.build([a, b], {}, {"s1": "火车站"}, "病例"))
    assert not g["grouped"] and len(g["nodes"]) == 3
    assert {(e["source"], e["target"]) for e in g["edges"]} == {("case", str(a.id)),
                                                                 (str(a.id), str(b.id))}


def test_five_thousand_contacts_are_grouped_by_place_and_capped() -> None:
    first = [_contact(1, f"s{i % 40}") for i in range(1000)]
    second = [_contact(2, f"t{i % 700}", via=first[i % 1000].id) for i in range(4500)]
    g = chain.build(first + second, {}, {}, "病例")
    assert g.grouped
    assert len(g.nodes) <= chain.MAX_NODES + 3
    # Every contact is counted somewhere.
    assert sum(n.count for n in g.nodes if n.depth > 0) == 5500
    assert any(n.label == "…" for n in g.nodes)


def test_the_chain_page_draws_an_svg(rt: Runtime, session: Session, client: TestClient,
                                     make_persona) -> None:  # type: ignore[no-untyped-def]
    p = person(session, rt)
    c = case(session, p)
    for i in range(3):
        session.add(Contact(id=uuid.uuid4(), case_id=c.id, person_hash=f"h{i}", kind="close",
                            depth=1, first_exposure=T, last_exposure=T + timedelta(hours=i),
                            quarantine_until=date(2026, 11, 24), area_code="520102",
                            evidence=[{"kind": "household", "household": "hh"}],
                            found_at=T))
    session.commit()
    official = make_persona("official", "area", "520102")
    page = client.get(f"/cases/{c.id}/chain", headers=official.headers)
    assert page.status_code == 200
    assert page.text.count('class="node"') == 4 and "<line" in page.text
