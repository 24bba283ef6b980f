"""What the manager and resident pages show: a few bulk reads shaped for the templates.

Each page reads with a fixed number of queries however many households it shows
(no query per household or per resident).
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, func, select
from sqlalchemy.orm import Session

from passtrace.communities.compounds import service as community_service
from passtrace.communities.compounds.models import Building, Community, Household, Outing, Resident
from passtrace.core.clock import utcnow
from passtrace.core.i18n import gettext
from passtrace.passes.models import Pass
from passtrace.people.models import Person
from passtrace.rules import outings as outing_rules


def is_resident(*, session: Session, person_id: uuid.UUID | None) -> bool:
    """Tell whether a person lives in any compound (the home page offers "My household")."""
    if person_id is None:
        return False
    return session.scalar(select(Resident.id).where(Resident.person_id == person_id)
                          .limit(1)) is not None


# --- the list of compounds -----------------------------------------------------------------

@dataclass
class CommunityRow:
    """One compound in the manager's or official's list."""

    code: str
    name: str
    address: str
    residents: int
    out_now: int


def community_rows(*, session: Session, communities: list[Community]) -> list[CommunityRow]:
    """Residents and residents out now for many compounds (two grouped queries)."""
    ids = [c.id for c in communities]
    if not ids:
        return []
    residents = dict(session.execute(
        select(Resident.community_id, func.count()).where(Resident.community_id.in_(ids))
        .group_by(Resident.community_id)).all())
    out = dict(session.execute(
        select(Outing.community_id, func.count()).where(Outing.community_id.in_(ids),
                                                        Outing.back_at.is_(None))
        .group_by(Outing.community_id)).all())
    return [CommunityRow(code=c.code, name=c.name, address=c.address,
                         residents=residents.get(c.id, 0), out_now=out.get(c.id, 0))
            for c in communities]


# --- households ----------------------------------------------------------------------------

@dataclass
class ResidentView:
    """A resident as the pages show them (masked)."""

    id: uuid.UUID
    person_id: uuid.UUID
    name: str
    id_masked: str
    phone: str | None
    role: str
    role_label: str
    pass_id: uuid.UUID | None
    out_since: datetime | None = None
    # The household pass: when it ends (renewed automatically before then, docs/jobs.md)
    # and whether it is valid, expired or missing (revoked, never issued).
    pass_until: datetime | None = None
    pass_state: str = "none"


@dataclass
class HouseholdView:
    """A flat and its residents, with who is out."""

    id: uuid.UUID
    label: str
    building: str
    unit: str
    room: str
    residents: list[ResidentView] = field(default_factory=list)

    @property
    def out_now(self) -> int:
        """How many of its residents are out."""
        return sum(1 for r in self.residents if r.out_since is not None)


def _residents_of(session: Session, household_ids: list[uuid.UUID]
                  ) -> dict[uuid.UUID, list[ResidentView]]:
    """The residents of many households, with their open outings (two queries)."""
    found: dict[uuid.UUID, list[ResidentView]] = defaultdict(list)
    if not household_ids:
        return found
    out = {pid: at for pid, at in session.execute(
        select(Outing.person_id, Outing.out_at).where(Outing.household_id.in_(household_ids),
                                                      Outing.back_at.is_(None)))}
    rows = session.execute(
        select(Resident, Person, Pass.valid_until, Pass.status)
        .join(Person, Person.id == Resident.person_id)
        .outerjoin(Pass, Pass.id == Resident.pass_id)
        .where(Resident.household_id.in_(household_ids))
        .order_by(Resident.created_at, Resident.id))
    now = utcnow()
    for r, p, until, status in rows:
        state = ("none" if until is None or status != "approved"
                 else "valid" if until > now else "expired")
        found[r.household_id].append(ResidentView(
            id=r.id, person_id=p.id, name=p.name_masked, id_masked=p.id_masked,
            phone=p.phone_masked, role=r.role,
            role_label=gettext(community_service.ROLE_LABELS.get(r.role, r.role)),
            pass_id=r.pass_id, out_since=out.get(p.id),
            pass_until=until if state != "none" else None, pass_state=state))
    return found


@dataclass
class HouseholdPage:
    """One page of households, and where the next one starts."""

    households: list[HouseholdView]
    total: int
    next_after: uuid.UUID | None


def households_page(*, session: Session, c: Community, building: str = "", room: str = "",
                    after: uuid.UUID | None = None, limit: int = 50,
                    where: Sequence[ColumnElement[bool]] = ()) -> HouseholdPage:
    """Households by building, unit and room (natural order), optionally of one building
    or with a room number containing `room`, or matching a search's `where` terms
    (household_search.py); page on with `after` (the last id shown)."""
    stmt = (select(Household.id, Building.name, Household.unit, Household.room)
            .join(Building, Building.id == Household.building_id)
            .where(Household.community_id == c.id, *where))
    if building:
        stmt = stmt.where(Building.name == building)
    if room.strip():
        stmt = stmt.where(Household.room.contains(room.strip(), autoescape=True))
    natural = community_service.natural_key
    rows = sorted(session.execute(stmt).all(),
                  key=lambda r: (natural(r[1]), natural(r[2]), natural(r[3])))
    total = len(rows)
    if after is not None:
        ids = [r[0] for r in rows]
        rows = rows[ids.index(after) + 1:] if after in ids else []
    shown = rows[:limit]
    return HouseholdPage(households=household_views(session, shown), total=total,
                         next_after=shown[-1][0] if len(rows) > limit else None)


def household_views(session: Session, rows: Sequence[Sequence[Any]]) -> list[HouseholdView]:
    """Views of flats given as (household id, building, unit, room), residents included."""
    members = _residents_of(session, [r[0] for r in rows])
    return [HouseholdView(id=hid, label=community_service.household_label(b, u, rm),
                          building=b, unit=u, room=rm, residents=members.get(hid, []))
            for hid, b, u, rm in rows]


def household_view(*, session: Session, c: Community, household_id: uuid.UUID
                   ) -> HouseholdView | None:
    """One flat of this compound (None if it is not one of its flats)."""
    row = session.execute(
        select(Household.id, Building.name, Household.unit, Household.room)
        .join(Building, Building.id == Household.building_id)
        .where(Household.id == household_id, Household.community_id == c.id)).first()
    return household_views(session, [row])[0] if row is not None else None


def resident_in(*, session: Session, c: Community, resident_id: uuid.UUID
                ) -> tuple[ResidentView, str] | None:
    """One resident of this compound and their flat's label (None if not theirs)."""
    row = session.execute(
        select(Resident, Building.name, Household.unit, Household.room)
        .join(Household, Household.id == Resident.household_id)
        .join(Building, Building.id == Household.building_id)
        .where(Resident.id == resident_id, Resident.community_id == c.id)).first()
    if row is None:
        return None
    r, b, u, rm = row
    view = next(v for v in _residents_of(session, [r.household_id])[r.household_id]
                if v.id == r.id)
    return view, community_service.household_label(b, u, rm)


# --- the resident's own household ----------------------------------------------------------

@dataclass
class MemberOut:
    """A member of my household who is out now."""

    name: str
    out_at: datetime
    minutes_out: int
    due_back: datetime | None
    overdue: bool


@dataclass
class MyPass:
    """My household pass and whether it still works."""

    id: uuid.UUID
    status: str
    valid_until: datetime
    usable: bool


@dataclass
class MyHousehold:
    """Where I live and how my household stands against the compound's rules."""

    community: Community
    household: HouseholdView
    me: ResidentView
    rules: outing_rules.OutingRules
    rule_lines: list[str]
    out: list[MemberOut]
    outings_used: int
    window_start: datetime
    in_curfew: bool
    my_pass: MyPass | None

    @property
    def out_now(self) -> int:
        """Members out now."""
        return len(self.out)


def my_households(*, session: Session, person_id: uuid.UUID,
                  now: datetime | None = None) -> list[MyHousehold]:
    """The households a person lives in (usually one), with their outing state."""
    now = now or utcnow()
    homes = community_service.residences_of(session=session, person_id=person_id)
    members = _residents_of(session, [h.id for _, h, _, _ in homes])
    pass_ids = [r.pass_id for r, _, _, _ in homes if r.pass_id is not None]
    passes = {p.id: p for p in session.scalars(select(Pass).where(Pass.id.in_(pass_ids)))
              } if pass_ids else {}
    found = []
    for r, h, b, c in homes:
        rules = outing_rules.rules_of(c)
        start = outing_rules.window_start(rules, now)
        used = session.scalar(select(func.count()).select_from(Outing).where(
            Outing.household_id == h.id, Outing.out_at >= start)) or 0
        view = HouseholdView(id=h.id, label=community_service.household_label(b.name, h.unit,
                                                                              h.room),
                             building=b.name, unit=h.unit, room=h.room,
                             residents=members.get(h.id, []))
        out = []
        for m in view.residents:
            if m.out_since is None:
                continue
            due = outing_rules.due_back(rules, m.out_since)
            out.append(MemberOut(name=m.name, out_at=m.out_since,
                                 minutes_out=max(int((now - m.out_since).total_seconds()
                                                     // 60), 0),
                                 due_back=due, overdue=due is not None and now >= due))
        out.sort(key=lambda m: m.out_at)
        p = passes.get(r.pass_id) if r.pass_id else None
        my_pass = MyPass(id=p.id, status=p.status, valid_until=p.valid_until,
                         usable=p.status == "approved" and p.valid_until > now) if p else None
        me = next(m for m in view.residents if m.id == r.id)
        found.append(MyHousehold(community=c, household=view, me=me, rules=rules,
                                 rule_lines=outing_rules.summary(rules), out=out,
                                 outings_used=used, window_start=start,
                                 in_curfew=outing_rules.in_curfew(rules, now), my_pass=my_pass))
    return found


# --- lists ---------------------------------------------------------------------------------

def buildings_with_counts(*, session: Session, c: Community) -> list[tuple[Building, int]]:
    """The buildings (natural order) and how many households each has."""
    counts = dict(session.execute(
        select(Household.building_id, func.count()).where(Household.community_id == c.id)
        .group_by(Household.building_id)).all())
    return [(b, counts.get(b.id, 0)) for b in community_service.buildings(session=session, c=c)]


def short_labels(*, session: Session, household_ids: list[uuid.UUID]) -> dict[uuid.UUID, str]:
    """"1-2-501" for each flat: short enough to label a chart's bars."""
    if not household_ids:
        return {}
    return {hid: f"{b}-{u}-{r}" for hid, b, u, r in session.execute(
        select(Household.id, Building.name, Household.unit, Household.room)
        .join(Building, Building.id == Household.building_id)
        .where(Household.id.in_(household_ids)))}
