"""The chain graph stays readable: grouped by place past a threshold, capped in nodes."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, timedelta

from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from passtrace.core.runtime import Runtime
from passtrace.tracing import chain, chain_read
from passtrace.tracing.models import Contact
from tests.querycount import assert_constant_queries
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


SITES = [str(uuid.UUID(int=i + 1)) for i in range(4)]


def _stored(c_id: uuid.UUID, i: int, depth: int, evidence: list[dict[str, str]],
            counts: dict[str, int] | None, via: uuid.UUID | None = None) -> Contact:
    return Contact(id=uuid.uuid4(), case_id=c_id, person_hash=f"h{depth}-{i}",
                   kind="close" if depth == 1 else "secondary", depth=depth,
                   via_contact_id=via, first_exposure=T + timedelta(minutes=i % 7),
                   last_exposure=T + timedelta(hours=1), quarantine_until=date(2026, 11, 24),
                   area_code="520102", evidence=evidence, evidence_counts=counts, found_at=T)


def _grow(session: Session, c_id: uuid.UUID, n: int, start: int = 0) -> None:
    """n first contacts with whole evidence (one met first by an analytics run, then at a
    site), and three secondary contacts of each, summarised (two met at one site)."""
    firsts = []
    for i in range(start, start + n):
        evidence = ([{"kind": "analytics_companion", "run": "r1"},
                     {"kind": "same_site_window", "site": SITES[i % 3]}] if i % 5 == 0
                    else [{"kind": "household", "household": f"hh-{i % 2}"}])
        firsts.append(_stored(c_id, i, 1, evidence, None))
    session.add_all(firsts)
    session.flush()
    seconds = []
    for i, via in enumerate(firsts):
        met = [{"kind": "stay_overlap", "site": SITES[i % 4]}]
        if i % 10 == 0:  # an analytics run's companion first: the place is the next item
            met.insert(0, {"kind": "analytics_companion", "run": "r1"})
        at_site = (met, {"stay_overlap": 1 + i % 2, "instant_in_stay": 1})
        for j, (ev, counts) in enumerate((
                at_site, at_site,
                ([{"kind": "same_train", "ref": "G1234", "date": "2026-11-09"}]
                 if i % 2 else [{"kind": "colleague", "department": "d1", "date": "x"}],
                 {"same_train": 1} if i % 2 else {"colleague": 2}))):
            seconds.append(_stored(c_id, start + i * 3 + j, 2, ev, counts, via=via.id))
    session.add_all(seconds)
    session.flush()


Drawn = tuple[list[tuple[str, int, int, str]], list[tuple[str, str, tuple[str, ...], int]]]


def _drawn(g: chain.Graph) -> Drawn:
    return (sorted((n.key, n.depth, n.count, n.label) for n in g.nodes),
            sorted((e.source, e.target, tuple(sorted(e.kinds)), e.count) for e in g.edges))


def test_a_large_chain_read_in_groups_draws_what_grouping_every_contact_draws(
        rt: Runtime, session: Session) -> None:
    c = case(session, person(session, rt))
    _grow(session, c.id, 80)  # 320 contacts: past GROUP_OVER
    found = chain_read.read(session=session, case=c)
    assert found.grouped and found.total == 320 and not found.contacts
    # Fewer members than contacts: the secondary ones were counted in SQL.
    assert len(found.members) < 320
    every = list(session.scalars(select(Contact).where(Contact.case_id == c.id)))
    expected = chain.build(every, {}, {SITES[1]: "火车站"}, "病例")
    got = chain.build_grouped(found.members, found.parents, {SITES[1]: "火车站"}, "病例")
    assert got.grouped and _drawn(got) == _drawn(expected)
    assert sum(n.count for n in got.nodes if n.depth > 0) == 320
    assert found.site_ids() == set(SITES)


def test_the_chain_reads_a_few_statements_however_many_contacts(
        rt: Runtime, session: Session) -> None:
    c = case(session, person(session, rt))
    _grow(session, c.id, 60)
    added = iter(range(1000, 100_000, 1000))
    assert_constant_queries(rt.engine, lambda: chain_read.read(session=session, case=c),
                            lambda: _grow(session, c.id, 300, start=next(added)))


def test_a_large_chain_page_draws_its_groups(rt: Runtime, session: Session, client: TestClient,
                                            make_persona) -> None:  # type: ignore[no-untyped-def]
    c = case(session, person(session, rt))
    _grow(session, c.id, 80)
    session.commit()
    official = make_persona("official", "area", "520102")
    page = client.get(f"/cases/{c.id}/chain", headers=official.headers)
    assert page.status_code == 200
    assert "320" in page.text
    # The case, 3 site groups + 2 households at depth 1, and the secondary groups.
    expected = chain.build(list(session.scalars(select(Contact).where(Contact.case_id == c.id))),
                           {}, {}, "病例")
    assert page.text.count('class="node"') == len(expected.nodes)
