"""Read a case's chain graph from the database, grouped in SQL when the case is large.

A depth-2 search can store 40,000+ contacts for one case. Loading each as an object
with its evidence took 9-14 s for a graph that draws at most a few hundred groups;
here the contacts whose group SQL can tell (their first piece of evidence names the
place, their evidence kinds are counted) are counted in one GROUP BY, and only the
others (depth 1, which keep their whole evidence) are read one by one.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, Text, case, cast, func, literal, null, or_, select
from sqlalchemy.orm import Session

from passtrace.cases.models import Case
from passtrace.tracing import chain
from passtrace.tracing.models import Contact

_FIELDS = ("kind", "site", "household", "ref", "date", "department")


@dataclass
class ChainRead:
    """What the chain page draws: every contact (few) or their groups (many)."""

    total: int
    contacts: list[Contact]
    members: list[chain.Member]
    parents: list[chain.Parent]

    @property
    def grouped(self) -> bool:
        """Whether the graph is drawn in groups (the contacts are not read one by one)."""
        return self.total > chain.GROUP_OVER

    def site_ids(self) -> set[str]:
        """The sites that name a group or a contact's evidence (their names label nodes)."""
        if not self.grouped:
            return {e["site"] for c in self.contacts for e in c.evidence if "site" in e}
        return {m.place[1] for m in self.members if m.place[0] == "site"}


def read(*, session: Session, case: Case) -> ChainRead:
    """The case's contacts when few, else their groups: a few statements whatever the size."""
    total = session.scalar(select(func.count()).select_from(Contact)
                           .where(Contact.case_id == case.id)) or 0
    if total <= chain.GROUP_OVER:
        contacts = list(session.scalars(select(Contact).where(Contact.case_id == case.id)))
        return ChainRead(total, contacts, [], [])
    first = _first_fields()
    members, unnamed = _counted_members(session, case, first)
    # Read one by one: the contacts with their whole evidence (no counts: depth 1), and
    # (rare) counted ones the GROUP BY left out, by the very expression that placed the
    # others, so that every contact is in exactly one of the two.
    alone: list[ColumnElement[bool]] = [Contact.evidence_counts.is_(None)]
    if unnamed:
        alone.append(_place_text(first).is_(None))
    for c in session.scalars(select(Contact).where(Contact.case_id == case.id, or_(*alone))):
        members.append(chain.Member(c.depth, c.via_contact_id, chain.place_of(c.evidence),
                                    chain.kinds_of(c), 1, (c.first_exposure, str(c.id))))
    return ChainRead(total, [], members, _parents(session, case, first))


def _first_fields() -> dict[str, ColumnElement[Any]]:
    return {f: Contact.evidence[(0, f)].as_string() for f in _FIELDS}


def _place_text(first: dict[str, ColumnElement[Any]]) -> ColumnElement[Any]:
    """The place named by the first piece of evidence as "kind|id" (NULL: it names none).

    One expression, evaluated lazily: most contacts are met at a site, and each field
    read from the JSON parses it again (six fields cost ~0.8 s at 44,000 contacts).
    """
    return case(
        (first["site"].is_not(None), literal("site|") + first["site"]),
        (first["kind"] == "household", literal("household|") + first["household"]),
        (first["kind"].in_(("same_train", "same_flight")),
         literal("trip|") + first["ref"] + literal(" ") + first["date"]),
        (first["kind"] == "colleague", literal("department|") + first["department"]),
        else_=null())


def _counted_members(session: Session, case_: Case, first: dict[str, ColumnElement[Any]]
                     ) -> tuple[list[chain.Member], bool]:
    """The counted contacts per depth, parent and place; and whether some of them could
    not be placed from their first piece of evidence (those are left to be read alone)."""
    # A subquery labels the place, so the outer GROUP BY names it once.
    inner = (select(Contact.depth, Contact.via_contact_id, Contact.first_exposure,
                    Contact.id, cast(Contact.evidence_counts, Text).label("counts"),
                    _place_text(first).label("place"))
             .where(Contact.case_id == case_.id, Contact.evidence_counts.is_not(None))
             .subquery())
    keys = [inner.c.depth, inner.c.via_contact_id, inner.c.place]
    rows = session.execute(select(*keys, func.count().label("n"),
                                  func.min(inner.c.first_exposure).label("first"),
                                  # Draw order: the earliest contact, ties to the smallest id.
                                  func.min(cast(inner.c.id, Text)).label("first_id"),
                                  # Each group's kinds: its contacts' counts, one per line.
                                  func.aggregate_strings(inner.c.counts, "\n").label("counts"))
                           .group_by(*keys)).all()
    members: list[chain.Member] = []
    unnamed = False
    for r in rows:
        if r.place is None:
            unnamed = True
            continue
        kinds = frozenset(k for line in set(r.counts.split("\n")) for k in json.loads(line))
        members.append(chain.Member(r.depth, r.via_contact_id, _split(r.place), kinds, r.n,
                                    (r.first, r.first_id)))
    return members, unnamed


def _parents(session: Session, case: Case,
             first: dict[str, ColumnElement[Any]]) -> list[chain.Parent]:
    """The contacts others were found through, with the place each was met."""
    vias = (select(Contact.via_contact_id).where(Contact.case_id == case.id,
                                                 Contact.via_contact_id.is_not(None))
            .distinct().scalar_subquery())
    rows = session.execute(select(Contact.id, Contact.depth, Contact.via_contact_id,
                                  _place_text(first).label("place"))
                           .where(Contact.id.in_(vias))).all()
    unnamed = [r.id for r in rows if r.place is None]
    evidence: dict[uuid.UUID, Any] = {}
    if unnamed:
        evidence = {i: e for i, e in session.execute(select(Contact.id, Contact.evidence)
                                                     .where(Contact.id.in_(unnamed)))}
    return [chain.Parent(r.id, r.depth, r.via_contact_id,
                         _split(r.place) if r.place is not None
                         else chain.place_of(evidence[r.id]))
            for r in rows]


def _split(place: str) -> tuple[str, str]:
    kind, _, ident = place.partition("|")
    return kind, ident
