"""Turn compound rows into API shapes (personal data masked)."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from passtrace.communities import presence, rules
from passtrace.communities import service as community_service
from passtrace.communities.models import Building, Community, Household, Outing, Resident
from passtrace.communities.schemas import (
    CommunityRead,
    HouseholdRead,
    OutRead,
    ResidentRead,
    WeeklyRead,
)
from passtrace.core.i18n import gettext
from passtrace.people.models import Person


def community(session: Session, c: Community) -> CommunityRead:
    """A compound with its rules, gates and size."""
    n = community_service.counts(session=session, c=c)
    return CommunityRead(
        code=c.code, name=c.name, address=c.address,
        max_out_per_household=c.max_out_per_household,
        outings_per_window=c.outings_per_window, window_days=c.window_days,
        curfew_start=c.curfew_start, curfew_end=c.curfew_end,
        max_out_minutes=c.max_out_minutes,
        visitor_approval=c.visitor_approval,  # type: ignore[arg-type]
        gates=[s.code for s in community_service.gates(session=session, c=c)],
        rules=rules.summary(rules.rules_of(c)), **n)


def resident(r: Resident, p: Person, label: str, out_since: datetime | None) -> ResidentRead:
    """A resident, masked."""
    return ResidentRead(id=r.id, person_id=p.id, household_id=r.household_id, household=label,
                        role=r.role,  # type: ignore[arg-type]
                        role_label=gettext(community_service.ROLE_LABELS[r.role]),
                        name=p.name_masked, id_number=p.id_masked, phone=p.phone_masked,
                        pass_id=r.pass_id, out_since=out_since)


def household(session: Session, c: Community, h: Household, b: Building) -> HouseholdRead:
    """A household with its residents and its outing state."""
    label = community_service.household_label(b.name, h.unit, h.room)
    members = community_service.household_members(session=session, household_id=h.id)
    out = {pid: at for pid, at in session.execute(select(Outing.person_id, Outing.out_at).where(
        Outing.household_id == h.id, Outing.back_at.is_(None)))}
    state = presence.household_state(session=session, c=c, household_id=h.id)
    return HouseholdRead(id=h.id, label=label, building=b.name, unit=h.unit, room=h.room,
                         residents=[resident(r, p, label, out.get(p.id)) for r, p in members],
                         **state)


def out_now(row: presence.OutNow) -> OutRead:
    """A resident out now."""
    return OutRead(outing_id=row.outing_id, person_id=row.person_id, name=row.name,
                   id_last4=row.id_last4, household=row.household, out_at=row.out_at,
                   minutes_out=row.minutes_out, due_back=row.due_back, overdue=row.overdue)


def weekly(row: presence.HouseholdWeek) -> WeeklyRead:
    """Outings of one household this week."""
    return WeeklyRead(household_id=row.household_id, household=row.household,
                      outings=row.outings)


def households_page(session: Session, c: Community, *, building: str | None = None,
                    after: uuid.UUID | None = None, limit: int = 100
                    ) -> list[tuple[Household, Building]]:
    """Households of a compound, by building, unit and room (optionally one building)."""
    stmt = (select(Household, Building).join(Building, Building.id == Household.building_id)
            .where(Household.community_id == c.id))
    if building:
        stmt = stmt.where(Building.name == building)
    rows: list[tuple[Household, Building]] = [(h, b) for h, b in session.execute(stmt)]
    natural = community_service.natural_key
    rows.sort(key=lambda hb: (natural(hb[1].name), natural(hb[0].unit), natural(hb[0].room)))
    if after is not None:
        ids = [h.id for h, _ in rows]
        rows = rows[ids.index(after) + 1:] if after in ids else []
    return rows[:limit]
