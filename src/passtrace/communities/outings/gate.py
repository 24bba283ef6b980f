"""A community gate: the compound's facts for the decision, and what an allowed pass changes.

`GATE` is this kind's provider (registrations.site_kinds), registered by
passtrace.wiring: the registration service calls gather() before deciding and
record() after, in the same transaction. For a resident going out, gather() locks the household row
first, so two gates taking the household's last outing slot at the same moment
are serialised: the second sees the first's outing and is refused.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import and_, func, select, update
from sqlalchemy.orm import Session

from passtrace.audit import chain
from passtrace.communities.compounds.models import Building, Community, Household, Outing, Resident
from passtrace.communities.compounds.service import ROLE_LABELS, household_label, lock_household
from passtrace.communities.visits.models import Visit
from passtrace.core.cache import Changes, Miss, TtlCache
from passtrace.core.clock import LOCAL_TZ
from passtrace.core.db import lock_row, locked
from passtrace.core.i18n import gettext
from passtrace.people.models import Person
from passtrace.rules import outings as outing_rules
from passtrace.rules.decide import GateFacts
from passtrace.sites.models import Site


@dataclass
class GateContext:
    """Who is at the gate, to the compound, and the household's outing state."""

    community: Community
    rules: outing_rules.OutingRules
    facts: GateFacts
    person_id: uuid.UUID | None = None
    resident: Resident | None = None
    household: str = ""  # the flat's label
    visit: Visit | None = None
    notes: list[str] = field(default_factory=list)
    # Going out: whether this resident already has an open outing (None: not looked up).
    already_out: bool | None = None

    @property
    def visitor_inside(self) -> bool:
        """A visitor who went in and has not come out."""
        v = self.visit
        return v is not None and v.entered_at is not None and v.exited_at is None

    def inside(self) -> bool | None:
        """Residents are counted by their outings, never "already inside"; a visitor may
        leave by another gate of the compound; anyone else: the site's own registrations."""
        if self.resident is not None:
            return False
        if self.visit is not None:
            return self.visitor_inside
        return None


# A compound's row (its rules) is re-read at most every COMMUNITY_CACHE_SECONDS per
# process, and at once after a compound is changed in this process: a gate check
# would otherwise spend a round trip on a row that changes a few times a month.
COMMUNITY_CACHE_SECONDS = 5.0
COMMUNITY_CHANGES = Changes(Community, name="communities")
# (database, compound code) -> the row, detached (None: no such compound)
_communities: TtlCache[tuple[int, str], Community | None] = TtlCache(
    ttl=COMMUNITY_CACHE_SECONDS, max_entries=10_000, changes=COMMUNITY_CHANGES)


def cached_community(bind: object, code: str) -> Community | None | Miss:
    """community_of's cached row for a compound code on a database (engine); no I/O."""
    return _communities.get((id(bind), code))


def community_of(session: Session, site: Site) -> Community | None:
    """The compound a gate belongs to (None for other sites or an unregistered compound)."""
    code = site.community_code
    if not code:
        return None
    # Keyed by database too: one process may serve (or test) more than one.
    key = (id(session.get_bind()), code)
    hit = _communities.get(key)
    if not isinstance(hit, Miss):
        return hit
    generation = _communities.generation()
    c = session.scalar(select(Community).where(Community.code == code))
    if c is not None:
        # Detached: no session's rollback or close can touch the shared copy, and
        # nothing here writes to it.
        session.expunge(c)
    _communities.put(key, c, generation=generation)
    return c


def _label(session: Session, household_id: uuid.UUID) -> str:
    row = session.execute(select(Building.name, Household.unit, Household.room)
                          .join(Building, Building.id == Household.building_id)
                          .where(Household.id == household_id)).one()
    return household_label(*row)


def gather(session: Session, site: Site, *, person_id: uuid.UUID | None,
           pass_row: Any, now: datetime, direction: str) -> GateContext | None:
    """Collect the compound's facts for one check at one of its gates."""
    c = community_of(session, site)
    if c is None:
        return None
    rules = outing_rules.rules_of(c)
    ctx = GateContext(community=c, rules=rules, facts=GateFacts(), person_id=person_id)
    if person_id is not None:
        found = session.execute(
            select(Resident, Building.name, Household.unit, Household.room)
            .join(Household, Household.id == Resident.household_id)
            .join(Building, Building.id == Household.building_id)
            .where(Resident.community_id == c.id, Resident.person_id == person_id)).first()
        if found is not None:
            ctx.resident = found[0]
            ctx.household = household_label(found[1], found[2], found[3])
    if ctx.resident is None and pass_row is not None and pass_row.purpose == "visitor":
        visit = session.scalar(select(Visit).where(Visit.pass_id == pass_row.id,
                                                   Visit.community_id == c.id))
        # Race: a copied one-time visitor QR shown at two gates at once, both going in,
        # would let two people in if each read entered_at (and exited_at) before the
        # other wrote it. Locked and read again, the second gate sees the first one's
        # mark and is denied as already inside.
        # tests/communities/test_visit_race.py fails on PostgreSQL without the lock.
        ctx.visit = locked(session, Visit, visit.id) if visit is not None else None
    if ctx.resident is not None:
        r = ctx.resident
        members_out = outings_used = 0
        if direction == "out":
            lock_household(session, r.household_id)
            others_out = and_(Outing.back_at.is_(None), Outing.person_id != r.person_id)
            self_out = and_(Outing.back_at.is_(None), Outing.person_id == r.person_id)
            in_window = Outing.out_at >= outing_rules.window_start(rules, now)
            counts = session.execute(
                select(func.count().filter(others_out), func.count().filter(in_window),
                       func.count().filter(self_out))
                .select_from(Outing).where(Outing.household_id == r.household_id)).one()
            members_out, outings_used = counts[0] or 0, counts[1] or 0
            ctx.already_out = bool(counts[2])
        ctx.facts = GateFacts(
            resident=True, curfew=outing_rules.in_curfew(rules, now),
            members_out=members_out, max_out=rules.max_out_per_household,
            outings_used=outings_used, outings_allowed=rules.outings_per_window)
    elif ctx.visit is not None:
        ctx.household = _label(session, ctx.visit.household_id)
        ctx.facts = GateFacts(visitor=ctx.visit.status == "approved",
                              visit_used=ctx.visit.exited_at is not None)
    return ctx


def _hhmm(moment: datetime) -> str:
    return moment.astimezone(LOCAL_TZ).strftime("%H:%M")


def notes(ctx: GateContext, *, direction: str, allowed: bool, now: datetime) -> list[str]:
    """What the gate's result screen says about this person and the compound's rules."""
    f, rules, lines = ctx.facts, ctx.rules, []
    if ctx.resident is not None:
        lines.append(gettext("Resident of %(household)s (%(role)s)", household=ctx.household,
                             role=gettext(ROLE_LABELS[ctx.resident.role])))
        if direction == "out":
            counted = 1 if allowed else 0
            if f.max_out is not None:
                lines.append(gettext("Household members out: %(out)s of %(max)s",
                                     out=f.members_out + counted, max=f.max_out))
            if f.outings_allowed is not None:
                lines.append(gettext("Outings used: %(used)s of %(allowed)s in %(days)s day(s)",
                                     used=f.outings_used + counted, allowed=f.outings_allowed,
                                     days=rules.window_days))
            due = outing_rules.due_back(rules, now)
            if allowed and due is not None:
                lines.append(gettext("Back by %(time)s", time=_hhmm(due)))
    elif ctx.visit is not None:
        lines.append(gettext("Visitor to %(household)s: %(purpose)s", household=ctx.household,
                             purpose=ctx.visit.purpose))
        return lines  # the outing rules are the residents' to keep, not the visitor's
    else:
        lines.append(gettext("Not registered in %(community)s", community=ctx.community.name))
        return lines
    return [*lines, *outing_rules.summary(rules)]


def record(session: Session, ctx: GateContext, *, registration_id: uuid.UUID, direction: str,
           decision: str, occurred_at: datetime) -> None:
    """Open or close a resident's outing, or mark a visitor in or out, after an allowed pass."""
    if decision != "allow":
        return
    if ctx.resident is not None:
        _resident_passed(session, ctx.community, ctx.resident, registration_id=registration_id,
                         direction=direction, at=occurred_at,
                         open_outing=ctx.already_out if direction == "out" else None)
    elif ctx.visit is not None:
        _visitor_passed(ctx.visit, direction=direction, at=occurred_at)


def _resident_passed(session: Session, c: Community, r: Resident, *,
                     registration_id: uuid.UUID, direction: str, at: datetime,
                     open_outing: bool | None = None) -> None:
    if direction not in ("in", "out"):
        return
    # An outing left open (back in without being registered) is closed at this pass:
    # the resident is certainly not out any more, whichever way they go now.
    if open_outing is not False:
        session.execute(update(Outing).where(Outing.person_id == r.person_id,
                                             Outing.community_id == c.id,
                                             Outing.back_at.is_(None))
                        .values(back_at=at, back_registration_id=registration_id))
    if direction == "out":
        session.add(Outing(community_id=c.id, household_id=r.household_id,
                           person_id=r.person_id, out_at=at,
                           out_registration_id=registration_id))
    session.flush()


def _visitor_passed(v: Visit, *, direction: str, at: datetime) -> None:
    if direction == "in" and v.entered_at is None:
        v.entered_at = at
    elif direction == "out" and v.entered_at is not None and v.exited_at is None:
        v.exited_at = at


def record_offline(session: Session, site: Site, rows: list[dict[str, Any]]) -> int:
    """Apply a device's uploaded gate registrations (decided offline) in time order.

    The device could not know the household's state, so no rule is applied here:
    what it let through happened. Returns how many rows changed an outing or a visit.
    """
    c = community_of(session, site)
    allowed = [r for r in rows if r["decision"] == "allow" and r["direction"] in ("in", "out")]
    if c is None or not allowed:
        return 0
    hashes = {r["person_hash"] for r in allowed if r["person_hash"]}
    residents: dict[str, Resident] = {}
    if hashes:
        for person_hash, resident in session.execute(
                select(Person.id_hash, Resident).join(Resident, Resident.person_id == Person.id)
                .where(Person.id_hash.in_(hashes), Resident.community_id == c.id)):
            residents[person_hash] = resident
    pass_ids = {r["pass_id"] for r in allowed if r["pass_id"]}
    visits = {v.pass_id: v for v in session.scalars(
        select(Visit).where(Visit.pass_id.in_(pass_ids), Visit.community_id == c.id))
    } if pass_ids else {}
    # Race (a deadlock on PostgreSQL): an online check at the gate takes the household's
    # row (or the visit's), then the audit chain's lock, then writes the person's outing
    # rows (or the visit). A guard's override (registrations.service.override) or a
    # device's upload used to write the outing rows first and take the chain lock after,
    # for its audit entry: each transaction then held what the other waited for. So take
    # the locks here in the gate's order before writing anything: households, visits
    # (each in id order, so two uploads agree too), then the chain.
    # tests/communities/test_override_race.py deadlocks on PostgreSQL without this.
    for household_id in sorted({r.household_id for r in residents.values()}):
        lock_household(session, household_id)
    for visit_id in sorted(v.id for v in visits.values()):
        lock_row(session, Visit, visit_id)
    if residents or visits:
        chain.lock_head(session)
        for v in visits.values():  # read again after the lock: another gate may have marked it
            session.refresh(v)
    changed = 0
    for row in sorted(allowed, key=lambda r: r["occurred_at"]):
        found = residents.get(row["person_hash"] or "")
        if found is not None:
            _resident_passed(session, c, found, registration_id=row["id"],
                             direction=row["direction"], at=row["occurred_at"])
            changed += 1
        elif row["pass_id"] in visits:
            _visitor_passed(visits[row["pass_id"]], direction=row["direction"],
                            at=row["occurred_at"])
            changed += 1
    session.flush()
    return changed


def usual_direction(session: Session, site: Site, *, person_id: uuid.UUID | None,
                    pass_row: Any) -> str | None:
    """Which way this person is going, from their state: a resident who is out comes back in.

    The guard confirms rather than toggles. A read only: gather() then locks the household
    as usual for the direction chosen, so two gates cannot both count a stale state.
    """
    c = community_of(session, site)
    if c is None:
        return None
    if person_id is not None:
        resident = session.scalar(select(Resident.id).where(
            Resident.community_id == c.id, Resident.person_id == person_id))
        if resident is not None:
            out = session.scalar(select(func.count()).select_from(Outing).where(
                Outing.person_id == person_id, Outing.back_at.is_(None)))
            return "in" if out else "out"
    if pass_row is not None and pass_row.purpose == "visitor":
        visit = session.scalar(select(Visit).where(Visit.pass_id == pass_row.id,
                                                   Visit.community_id == c.id))
        if visit is not None:
            return "out" if visit.entered_at is not None and visit.exited_at is None else "in"
    return None


def offline_facts(session: Session, site: Site, *, person_hashes: set[str],
                  pass_ids: set[uuid.UUID]) -> tuple[set[str], set[uuid.UUID]]:
    """Who of an uploaded batch lives in the compound, and which passes are its visits.

    Two queries for the whole batch. The household's outing limits are not judged
    again: the device could not know them and what it let through happened.
    """
    c = community_of(session, site)
    if c is None:
        return set(), set()
    residents: set[str] = set()
    if person_hashes:
        residents = set(session.scalars(
            select(Person.id_hash).join(Resident, Resident.person_id == Person.id)
            .where(Person.id_hash.in_(person_hashes), Resident.community_id == c.id)))
    visits: set[uuid.UUID] = set()
    if pass_ids:
        visits = set(session.scalars(select(Visit.pass_id).where(
            Visit.pass_id.in_(pass_ids), Visit.community_id == c.id)))
    return residents, visits


class GateProvider:
    """The compound's gate as a site kind (registrations.site_kinds.SiteKindProvider)."""

    def applies(self, site: Site) -> bool:
        """A gate is a site that names its compound."""
        return bool(site.community_code)

    gather = staticmethod(gather)
    usual_direction = staticmethod(usual_direction)
    notes = staticmethod(notes)
    record = staticmethod(record)
    record_offline = staticmethod(record_offline)
    offline_facts = staticmethod(offline_facts)


GATE = GateProvider()
