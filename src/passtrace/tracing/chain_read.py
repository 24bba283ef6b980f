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

from sqlalchemy import ColumnElement, Text, and_, cast, func, not_, or_, select
from sqlalchemy.orm import Session

from passtrace.cases.models import Case
from passtrace.tracing import chain
from passtrace.tracing.models import Contact

# Evidence kinds whose place is named by the kind itself (the others carry a site).
_PLACE_KINDS = ("household", "same_train", "same_flight", "colleague")
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
    counted = and_(Contact.evidence_counts.is_not(None), _named(first))
    members = _counted_members(session, case, first, counted)
    for c in session.scalars(select(Contact).where(Contact.case_id == case.id,
                                                   not_(counted))):
        members.append(chain.Member(c.depth, c.via_contact_id, chain.place_of(c.evidence),
                                    chain.kinds_of(c), 1, (c.first_exposure, str(c.id))))
    return ChainRead(total, [], members, _parents(session, case, first))


def _first_fields() -> dict[str, ColumnElement[Any]]:
    return {f: Contact.evidence[(0, f)].as_string() for f in _FIELDS}


def _named(first: dict[str, ColumnElement[Any]]) -> ColumnElement[bool]:
    """The first piece of evidence names the place (as chain.place_of would find it)."""
    return or_(first["site"].is_not(None), first["kind"].in_(_PLACE_KINDS))


def _place(row: Any) -> tuple[str, str]:
    if row.site is not None:
        return "site", row.site
    if row.kind == "household":
        return "household", row.household
    if row.kind in ("same_train", "same_flight"):
        return "trip", f"{row.ref} {row.date}"
    return "department", row.department


def _counted_members(session: Session, case: Case, first: dict[str, ColumnElement[Any]],
                     counted: ColumnElement[bool]) -> list[chain.Member]:
    # A subquery labels the extracted fields, so the outer GROUP BY names them once.
    inner = (select(Contact.depth, Contact.via_contact_id, Contact.first_exposure,
                    Contact.id, cast(Contact.evidence_counts, Text).label("counts"),
                    *(v.label(k) for k, v in first.items()))
             .where(Contact.case_id == case.id, counted).subquery())
    keys = [inner.c.depth, inner.c.via_contact_id, inner.c.counts,
            *(inner.c[f] for f in _FIELDS)]
    rows = session.execute(select(*keys, func.count().label("n"),
                                  func.min(inner.c.first_exposure).label("first"),
                                  # Draw order: the earliest contact, ties to the smallest id.
                                  func.min(cast(inner.c.id, Text)).label("first_id"))
                           .group_by(*keys)).all()
    return [chain.Member(r.depth, r.via_contact_id, _place(r),
                         frozenset(json.loads(r.counts)), r.n, (r.first, r.first_id))
            for r in rows]


def _parents(session: Session, case: Case,
             first: dict[str, ColumnElement[Any]]) -> list[chain.Parent]:
    """The contacts others were found through, with the place each was met."""
    vias = (select(Contact.via_contact_id).where(Contact.case_id == case.id,
                                                 Contact.via_contact_id.is_not(None))
            .distinct().scalar_subquery())
    rows = session.execute(select(Contact.id, Contact.depth, Contact.via_contact_id,
                                  _named(first).label("named"),
                                  *(v.label(k) for k, v in first.items()))
                           .where(Contact.id.in_(vias))).all()
    unnamed = [r.id for r in rows if not r.named]
    evidence: dict[uuid.UUID, Any] = {}
    if unnamed:
        evidence = {i: e for i, e in session.execute(select(Contact.id, Contact.evidence)
                                                     .where(Contact.id.in_(unnamed)))}
    return [chain.Parent(r.id, r.depth, r.via_contact_id,
                         _place(r) if r.named else chain.place_of(evidence[r.id]))
            for r in rows]
