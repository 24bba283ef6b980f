"""Who is out now, who is overdue, outings per household, in/out by hour; overdue notices."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import and_, func, select, update
from sqlalchemy.orm import Session

from passtrace.audit import shaped as audit_shaped
from passtrace.communities.compounds.models import Building, Community, Household, Outing
from passtrace.communities.compounds.service import household_label, managers_of, natural_key
from passtrace.core.clock import LOCAL_TZ, utcnow
from passtrace.core.i18n import N_
from passtrace.notices.service import Message, Notifier, send_all
from passtrace.people.models import Person
from passtrace.registrations.models import Registration
from passtrace.rules import outings as outing_rules
from passtrace.sites.models import Site


@dataclass
class OutNow:
    """One resident out of the compound right now."""

    outing_id: uuid.UUID
    person_id: uuid.UUID
    name: str
    id_last4: str
    household_id: uuid.UUID
    household: str
    out_at: datetime
    minutes_out: int
    due_back: datetime | None
    overdue: bool


def who_is_out(*, session: Session, c: Community, now: datetime | None = None,
               overdue_only: bool = False, limit: int = 1000) -> list[OutNow]:
    """Residents out now, longest out first (the open outings: one partial index)."""
    now = now or utcnow()
    rules = outing_rules.rules_of(c)
    stmt = (select(Outing.id, Outing.person_id, Person.name_masked, Person.id_masked,
                   Outing.household_id, Building.name, Household.unit, Household.room,
                   Outing.out_at)
            .join(Person, Person.id == Outing.person_id)
            .join(Household, Household.id == Outing.household_id)
            .join(Building, Building.id == Household.building_id)
            .where(Outing.community_id == c.id, Outing.back_at.is_(None))
            .order_by(Outing.out_at).limit(limit))
    if overdue_only:
        if rules.max_out_minutes is None:
            return []
        stmt = stmt.where(Outing.out_at < now - timedelta(minutes=rules.max_out_minutes))
    out = []
    for oid, pid, name, masked, hid, building, unit, room, out_at in session.execute(stmt):
        due = outing_rules.due_back(rules, out_at)
        out.append(OutNow(outing_id=oid, person_id=pid, name=name, id_last4=masked[-4:],
                          household_id=hid, household=household_label(building, unit, room),
                          out_at=out_at, minutes_out=max(int((now - out_at).total_seconds()
                                                             // 60), 0),
                          due_back=due, overdue=due is not None and now >= due))
    return out


def out_count(*, session: Session, c: Community) -> int:
    """How many residents are out now."""
    return session.scalar(select(func.count()).select_from(Outing).where(
        Outing.community_id == c.id, Outing.back_at.is_(None))) or 0


def overdue_count(rows: list[OutNow]) -> int:
    """How many of those out are overdue."""
    return sum(1 for r in rows if r.overdue)


@dataclass
class HouseholdWeek:
    """Outings of one household since Monday."""

    household_id: uuid.UUID
    household: str
    outings: int


def outings_this_week(*, session: Session, c: Community, now: datetime | None = None,
                      limit: int = 500) -> list[HouseholdWeek]:
    """Households by their outings since local Monday, most first."""
    since = outing_rules.week_start(now or utcnow())
    n = func.count(Outing.id).label("n")
    stmt = (select(Outing.household_id, Building.name, Household.unit, Household.room, n)
            .join(Household, Household.id == Outing.household_id)
            .join(Building, Building.id == Household.building_id)
            .where(Outing.community_id == c.id, Outing.out_at >= since)
            .group_by(Outing.household_id, Building.name, Household.unit, Household.room)
            .order_by(n.desc()).limit(limit))
    rows = [HouseholdWeek(household_id=hid, household=household_label(b, u, r), outings=k)
            for hid, b, u, r, k in session.execute(stmt)]
    rows.sort(key=lambda w: (-w.outings, natural_key(w.household)))
    return rows


def in_out_by_hour(*, session: Session, c: Community, day: date) -> dict[str, list[int]]:
    """Allowed entries and exits at the compound's gates per local hour of one day."""
    start = datetime(day.year, day.month, day.day, tzinfo=LOCAL_TZ)
    gate_ids = select(Site.id).where(Site.community_code == c.code).scalar_subquery()
    rows = session.execute(
        select(Registration.occurred_at, Registration.direction)
        .where(Registration.site_id.in_(gate_ids), Registration.decision == "allow",
               Registration.direction.in_(("in", "out")),
               Registration.occurred_at >= start,
               Registration.occurred_at < start + timedelta(days=1)))
    series = {"in": [0] * 24, "out": [0] * 24}
    for at, direction in rows:
        series[direction][at.astimezone(LOCAL_TZ).hour] += 1
    return series


OVERDUE_SHAPE = audit_shaped.Shape(action="resident.overdue_notice", resource_type="outing")
OVERDUE_NOTICE = N_("%(name)s (Bldg %(building)s, Unit %(unit)s, Room %(room)s) in "
                    "%(community)s has been out since %(since)s and is overdue.")


def sweep_overdue(*, session: Session, notifier: Notifier, now: datetime | None = None,
                  community_code: str | None = None, limit: int | None = None) -> int:
    """Tell each compound's managers about residents newly overdue; safe to re-run.

    Each outing is noticed once (overdue_noticed_at), so running this every few
    minutes (``passtrace community overdue``) never repeats a notice. One query per
    distinct time limit (compounds share a handful), not one per compound, each on
    the partial index of open, unnoticed outings. `limit`: notice at most that many
    (the oldest first) and leave the rest to the next call (see jobs.notice_overdue).
    """
    now = now or utcnow()
    limits = select(Community.max_out_minutes).where(Community.max_out_minutes.is_not(None))
    if community_code:
        limits = limits.where(Community.code == community_code)
    told = 0
    told_about: list[tuple[int, uuid.UUID, uuid.UUID | None]] = []
    managers: dict[uuid.UUID, list[uuid.UUID]] = {}
    for minutes in sorted({m for m in session.scalars(limits) if m is not None}):
        stmt = (select(Outing.id, Outing.out_at, Person.name_masked, Building.name,
                       Household.unit, Household.room, Community, Outing.person_id)
                .join(Community, Community.id == Outing.community_id)
                .join(Person, Person.id == Outing.person_id)
                .join(Household, Household.id == Outing.household_id)
                .join(Building, Building.id == Household.building_id)
                .where(and_(Outing.back_at.is_(None), Outing.overdue_noticed_at.is_(None),
                            Outing.out_at < now - timedelta(minutes=minutes),
                            Community.max_out_minutes == minutes))
                .order_by(Outing.out_at))
        if community_code:
            stmt = stmt.where(Community.code == community_code)
        if limit is not None:
            if told >= limit:
                break
            stmt = stmt.limit(limit - told)
        found = session.execute(stmt).all()
        # Mark them first, each only if no other sweep did since the read (the runner's
        # and a cron run at once): only the outings this sweep marks are told and logged,
        # so the resident's access log names each notice once.
        ids = [row[0] for row in found]
        mine: set[uuid.UUID] = set()
        for i in range(0, len(ids), 1000):
            mine.update(session.scalars(
                update(Outing).where(Outing.id.in_(ids[i:i + 1000]),
                                     Outing.overdue_noticed_at.is_(None))
                .values(overdue_noticed_at=now).returning(Outing.id)))
        late = [row for row in found if row[0] in mine]
        messages: list[Message] = []
        for oid, out_at, name, building, unit, room, c, _ in late:
            if c.id not in managers:
                managers[c.id] = managers_of(session, c)
            params: dict[str, Any] = {
                "name": name, "building": building, "unit": unit, "room": room,
                "since": out_at.astimezone(LOCAL_TZ).strftime("%m-%d %H:%M"),
                "community": c.name}
            messages += [Message(
                user_id=user_id, kind="community.overdue", text=OVERDUE_NOTICE,
                params=params, link=f"/communities/{c.code}/out?overdue=1",
                dedupe_key=f"overdue:{oid}:{user_id}") for user_id in managers[c.id]]
        # One statement per notifier for all of them, not a round trip per notice.
        send_all(notifier, messages)
        told_about += [(0, row[0], row[7]) for row in late]
        told += len(late)
    # The notice puts each resident's masked name and flat in front of the managers: the
    # resident finds it in their access log (one entry per outing noticed, written once
    # like the notice; audit/shaped.py, one COPY however many).
    if told_about:
        audit_shaped.record_shaped(session=session, actor=None, shapes=[OVERDUE_SHAPE],
                                   entries=told_about)
    session.flush()
    return told
