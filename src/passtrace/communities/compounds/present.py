"""Turn compound rows into API shapes (personal data masked)."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from passtrace.communities.compounds import overview
from passtrace.communities.compounds import service as community_service
from passtrace.communities.compounds.models import Community, Outing, Resident
from passtrace.communities.compounds.schemas import CommunityRead, HouseholdRead, ResidentRead
from passtrace.core.clock import utcnow
from passtrace.core.i18n import gettext
from passtrace.people.models import Person
from passtrace.rules import outings as rules


def community(session: Session, c: Community) -> CommunityRead:
    """A compound with its rules, gates and size."""
    return communities(session, [c])[0]


def communities(session: Session, cs: list[Community]) -> list[CommunityRead]:
    """Compounds with their rules, gates and sizes: four queries, not four per compound."""
    sizes = community_service.counts_of(session=session, cs=cs)
    gates = community_service.gates_of(session=session, cs=cs)
    return [CommunityRead(
        code=c.code, name=c.name, address=c.address,
        max_out_per_household=c.max_out_per_household,
        outings_per_window=c.outings_per_window, window_days=c.window_days,
        curfew_start=c.curfew_start, curfew_end=c.curfew_end,
        max_out_minutes=c.max_out_minutes,
        visitor_approval=c.visitor_approval,  # type: ignore[arg-type]
        gates=[s.code for s in gates[c.code]],
        rules=rules.summary(rules.rules_of(c)), **sizes[c.id]) for c in cs]


def resident(r: Resident, p: Person, label: str, out_since: datetime | None) -> ResidentRead:
    """A resident, masked."""
    return ResidentRead(id=r.id, person_id=p.id, household_id=r.household_id, household=label,
                        role=r.role,  # type: ignore[arg-type]
                        role_label=gettext(community_service.ROLE_LABELS[r.role]),
                        name=p.name_masked, id_number=p.id_masked, phone=p.phone_masked,
                        pass_id=r.pass_id, out_since=out_since)


def households(session: Session, c: Community,
               views: list[overview.HouseholdView]) -> list[HouseholdRead]:
    """Households with their residents (masked) and outing state; one count query for all."""
    used: dict[uuid.UUID, int] = {}
    if views:
        start = rules.window_start(rules.rules_of(c), utcnow())
        used = {hid: n for hid, n in session.execute(
            select(Outing.household_id, func.count()).where(
                Outing.household_id.in_([v.id for v in views]), Outing.out_at >= start)
            .group_by(Outing.household_id))}
    return [HouseholdRead(
        id=v.id, label=v.label, building=v.building, unit=v.unit, room=v.room,
        residents=[ResidentRead(id=m.id, person_id=m.person_id, household_id=v.id,
                                household=v.label,
                                role=m.role,  # type: ignore[arg-type]
                                role_label=m.role_label, name=m.name, id_number=m.id_masked,
                                phone=m.phone, pass_id=m.pass_id, out_since=m.out_since)
                   for m in v.residents],
        out_now=v.out_now, outings_in_window=used.get(v.id, 0)) for v in views]
