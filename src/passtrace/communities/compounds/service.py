"""Compounds, buildings, households and residents; the household pass."""

from __future__ import annotations

import re
import uuid
from datetime import timedelta

from sqlalchemy import ColumnElement, func, or_, select, update
from sqlalchemy.orm import Session

from passtrace.accounts.models import RoleBinding
from passtrace.audit import service as audit_service
from passtrace.communities.compounds import authz, rule_changes
from passtrace.communities.compounds.models import Building, Community, Household, Outing, Resident
from passtrace.communities.compounds.schemas import CommunityCreate, ResidentCreate, RulesWrite
from passtrace.core.areacodes import significant_prefix
from passtrace.core.clock import utcnow
from passtrace.core.config import Settings
from passtrace.core.db import lock_row
from passtrace.core.errors import Conflict, Forbidden, NotFound, ValidationFailed
from passtrace.core.i18n import N_, gettext
from passtrace.core.ids import uuid7
from passtrace.core.runtime import Runtime
from passtrace.core.security import Principal
from passtrace.passes import coercion, keyring
from passtrace.passes import service as pass_service
from passtrace.passes.models import Pass
from passtrace.people import service as people_service
from passtrace.people.models import Person
from passtrace.sites.models import Site

ROLE_LABELS = {
    "owner": N_("Owner"),
    "tenant": N_("Tenant"),
    "family": N_("Family member"),
    "live_in_worker": N_("Live-in worker"),
}


def household_label(building: str, unit: str, room: str) -> str:
    """The flat as people say it: 3栋2单元501 / Bldg 3, Unit 2, Room 501."""
    return gettext("Bldg %(building)s, Unit %(unit)s, Room %(room)s",
                   building=building, unit=unit, room=room)


def get_by_code(*, session: Session, code: str) -> Community | None:
    """Get a compound by its code."""
    return session.scalar(select(Community).where(Community.code == code))


def get_visible(*, session: Session, actor: Principal, code: str) -> Community:
    """A compound the actor may see; anything else is "not found"."""
    c = get_by_code(session=session, code=code)
    if c is None or not authz.can_view(actor, c):
        raise NotFound("No such community.")
    return c


def get_managed(*, session: Session, actor: Principal, code: str,
                for_update: bool = False) -> Community:
    """A compound the actor runs (its manager, or an official over its area)."""
    c = get_visible(session=session, actor=actor, code=code)
    if not authz.can_manage(actor, c):
        raise Forbidden("Your role does not allow this.")
    if for_update:
        # Race: two managers saving the rules at once each audited a "before" the
        # other had already changed; the row is held and re-read until commit.
        session.refresh(c, with_for_update=True)
    return c


def _visible(actor: Principal, q: str) -> list[ColumnElement[bool]] | None:
    """WHERE clauses for the compounds the actor may see (None: none at all)."""
    conds: list[ColumnElement[bool]] = []
    prefixes = actor.area_scopes("community.view")
    if prefixes is not None:
        codes = [b.scope_value for b in actor.bindings if b.scope_type == "community"
                 and actor.covers("community.view", "community", b.scope_value)]
        scope: list[ColumnElement[bool]] = [Community.code.in_(codes)] if codes else []
        scope += [Community.code.startswith(p) for p in prefixes]
        if not scope:
            return None
        conds.append(or_(*scope))
    needle = "".join(ch for ch in q if ch.isprintable()).strip()  # PostgreSQL refuses NUL
    if needle:
        pattern = "%" + needle.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        conds.append(or_(Community.name.ilike(pattern, escape="\\"),
                         Community.code.like(pattern, escape="\\"),
                         Community.address.ilike(pattern, escape="\\")))
    return conds


def list_visible(*, session: Session, actor: Principal, q: str = "",
                 limit: int = 2000) -> list[Community]:
    """The compounds the actor may see, by name; `q` searches name, code and address."""
    conds = _visible(actor, q)
    if conds is None:
        return []
    return list(session.scalars(select(Community).where(*conds)
                                .order_by(Community.name, Community.code).limit(limit)))


def count_visible(*, session: Session, actor: Principal, q: str = "") -> int:
    """How many compounds list_visible would give without its limit."""
    conds = _visible(actor, q)
    if conds is None:
        return 0
    return session.scalar(select(func.count()).select_from(Community).where(*conds)) or 0


def create(*, session: Session, actor: Principal, data: CommunityCreate) -> Community:
    """Register a compound in the actor's area."""
    if not actor.covers_area("community.register", data.code):
        raise Forbidden("You may register communities only in your own area.")
    if get_by_code(session=session, code=data.code) is not None:
        raise Conflict("A community with this code already exists.")
    name = " ".join(data.name.split())
    if not name:
        raise ValidationFailed("The compound's name is empty.",
                               fields={"name": "The compound's name is empty."})
    c = Community(code=data.code, name=name, address=data.address.strip(),
                  visitor_approval=data.visitor_approval, window_days=1)
    session.add(c)
    session.flush()
    audit_service.record(session=session, actor=actor, action="community.create",
                         resource_type="community", resource_id=c.code,
                         detail={"name": c.name})
    return c


RULE_FIELDS = ("max_out_per_household", "outings_per_window", "window_days", "curfew_start",
               "curfew_end", "max_out_minutes", "visitor_approval")


def set_rules(*, session: Session, actor: Principal, code: str, data: RulesWrite,
              reason_code: str | None = None, reason: str | None = None,
              settings: Settings | None = None) -> Community:
    """Change the outing rules and the visitor policy (audited with before and after).

    Making a rule stricter is coercive (rule_changes): it needs a reason from the list
    plus text, every household is told and may appeal. Loosening needs no reason.
    """
    if bool(data.curfew_start) != bool(data.curfew_end):
        msg = N_("Give both the start and the end of the curfew, or neither.")
        raise ValidationFailed(msg, fields={"curfew_end": msg})
    if data.curfew_start and data.curfew_start == data.curfew_end:
        msg = N_("The curfew must start and end at different times.")
        raise ValidationFailed(msg, fields={"curfew_end": msg})
    c = get_managed(session=session, actor=actor, code=code, for_update=True)
    before = {f: getattr(c, f) for f in RULE_FIELDS}
    after = {f: getattr(data, f) for f in RULE_FIELDS}
    stricter = rule_changes.tightened(before, after)
    if stricter:
        # Checked against the rules as they are under the row lock, so a rule another
        # manager loosened a moment ago still counts as tightened here.
        reason_code, reason = rule_changes.check_reason(reason_code, reason)
    for f in RULE_FIELDS:
        setattr(c, f, after[f])
    session.flush()
    if before != after:
        audit_service.record(session=session, actor=actor, action="community.rules",
                             resource_type="community", resource_id=c.code,
                             reason=reason if stricter else None,
                             detail={"before": before, "after": after})
    if stricter:
        assert reason_code is not None and reason is not None
        rule_changes.record(session=session, settings=settings, actor=actor, c=c,
                            before=before, after=after, fields=stricter,
                            reason_code=reason_code, reason=reason)
    return c


def record_resident_reads(*, session: Session, actor: Principal,
                          people: list[tuple[object, uuid.UUID]], via: str) -> None:
    """Each resident shown to a manager or an official sees the read in their access log."""
    audit_service.record_reads(session=session, actor=actor, action="resident.view",
                               resource_type="resident", people=people, detail={"via": via})


def gates(*, session: Session, c: Community) -> list[Site]:
    """The compound's gates (community-gate sites that name it)."""
    return gates_of(session=session, cs=[c])[c.code]


def gates_of(*, session: Session, cs: list[Community]) -> dict[str, list[Site]]:
    """gates() for many compounds in one query, by compound code."""
    out: dict[str, list[Site]] = {c.code: [] for c in cs}
    if cs:
        for site in session.scalars(select(Site).where(Site.community_code.in_(list(out)))
                                    .order_by(Site.code)):
            out[str(site.community_code)].append(site)
    return out


def buildings(*, session: Session, c: Community) -> list[Building]:
    """The buildings, in a natural order (2 before 10)."""
    rows = list(session.scalars(select(Building).where(Building.community_id == c.id)))
    return sorted(rows, key=lambda b: natural_key(b.name))


def natural_key(text: str) -> tuple[tuple[int, str], ...]:
    """Sort "2" before "10" and "A3" after "A2"."""
    return tuple((int(part), "") if part.isdigit() else (0, part)
                 for part in re.findall(r"\d+|\D+", text))


def clean_label(raw: str, field: str, limit: int) -> str:
    """A building, unit or room name: trimmed, with 栋/单元/室 suffixes dropped."""
    text = " ".join(str(raw).split())
    for suffix in ("号楼", "栋", "幢", "单元", "室", "号"):
        if text.endswith(suffix) and len(text) > len(suffix):
            text = text[: -len(suffix)]
            break
    if not text or len(text) > limit or any(ord(ch) < 32 or ord(ch) == 127 for ch in text):
        msg = N_("Please fill in %(field)s (1-%(limit)s characters).")
        raise ValidationFailed(msg, field=gettext(FIELD_LABELS[field]), limit=limit,
                               fields={field: msg})
    return text


FIELD_LABELS = {"building": N_("building"), "unit": N_("unit"), "room": N_("room"),
                "name": N_("name")}


def add_building(*, session: Session, actor: Principal, code: str, name: str,
                 units: list[str]) -> Building:
    """Add a building (or add units to an existing one)."""
    c = get_managed(session=session, actor=actor, code=code)
    name = clean_label(name, "building", 32)
    clean_units = list(dict.fromkeys(clean_label(u, "unit", 16) for u in units))
    b = session.scalar(select(Building).where(Building.community_id == c.id,
                                              Building.name == name))
    if b is None:
        b = Building(community_id=c.id, name=name, units=clean_units)
        session.add(b)
    else:
        b.units = list(dict.fromkeys([*b.units, *clean_units]))
    session.flush()
    audit_service.record(session=session, actor=actor, action="community.building",
                         resource_type="community", resource_id=c.code,
                         detail={"building": name, "units": b.units})
    return b


def find_household(*, session: Session, c: Community, building: str, unit: str,
                   room: str) -> tuple[Building, Household | None]:
    """The building (which must exist, with that unit) and the flat, if known yet."""
    building, unit, room = (clean_label(building, "building", 32),
                            clean_label(unit, "unit", 16), clean_label(room, "room", 16))
    b = session.scalar(select(Building).where(Building.community_id == c.id,
                                              Building.name == building))
    if b is None:
        msg = N_("There is no building %(building)s in this community.")
        raise ValidationFailed(msg, building=building,
                               fields={"building": msg})
    if unit not in b.units:
        msg = N_("Building %(building)s has no unit %(unit)s.")
        raise ValidationFailed(msg, building=building, unit=unit,
                               fields={"unit": msg})
    h = session.scalar(select(Household).where(Household.building_id == b.id,
                                               Household.unit == unit, Household.room == room))
    return b, h


def ensure_household(*, session: Session, c: Community, building: str, unit: str,
                     room: str) -> tuple[Building, Household]:
    """The flat, created on first use."""
    b, h = find_household(session=session, c=c, building=building, unit=unit, room=room)
    if h is None:
        h = Household(community_id=c.id, building_id=b.id, unit=clean_label(unit, "unit", 16),
                      room=clean_label(room, "room", 16))
        session.add(h)
        session.flush()
    return b, h


def add_resident(*, session: Session, rt: Runtime, actor: Principal, code: str,
                 data: ResidentCreate) -> Resident:
    """Register a resident in a flat and issue their household pass."""
    c = get_managed(session=session, actor=actor, code=code)
    _, h = ensure_household(session=session, c=c, building=data.building, unit=data.unit,
                            room=data.room)
    person = people_service.register(session=session, vault=rt.vault, actor=actor,
                                     id_number=data.id_number, name=data.name,
                                     phone=data.phone, source=("community", c.id))
    existing = session.scalar(select(Resident).where(Resident.community_id == c.id,
                                                     Resident.person_id == person.id))
    if existing is not None:
        raise Conflict("This person is already a resident of this community.")
    r = Resident(id=uuid7(), community_id=c.id, household_id=h.id, person_id=person.id,
                 role=data.role)
    session.add(r)
    session.flush()
    issue_household_passes(session=session, rt=rt, actor=actor, c=c, residents=[r])
    audit_service.record(session=session, actor=actor, action="community.resident.add",
                         resource_type="resident", resource_id=r.id,
                         subject_person_id=person.id,
                         detail={"community": c.code, "household": str(h.id),
                                 "role": data.role})
    return r


def remove_resident(*, session: Session, actor: Principal, code: str,
                    resident_id: uuid.UUID, reason: str, reason_code: str | None = None,
                    settings: Settings | None = None) -> None:
    """Take a resident off the household (moved out); their household pass is revoked.

    Coercive: a reason from the list plus text; the person is told and may appeal.
    """
    reason_code, reason = coercion.check_reason(reason_code, reason)
    c = get_managed(session=session, actor=actor, code=code)
    r = session.get(Resident, resident_id)
    if r is None or r.community_id != c.id:
        raise NotFound("No such resident.")
    if r.pass_id is not None:
        # Race: an official revoking the same pass at that moment; the lock makes the
        # second see "revoked" rather than collide on the revocation list's unique pass.
        p = session.get(Pass, r.pass_id, with_for_update=True)
        if p is not None and p.status == "approved":
            pass_service.revoke_authorized(session=session, actor=actor, p=p, reason=reason,
                                           reason_code=reason_code, settings=settings,
                                           coercive=True)
    # Moved out while out: they are no longer the compound's to count as out.
    session.execute(update(Outing).where(Outing.person_id == r.person_id,
                                         Outing.community_id == c.id, Outing.back_at.is_(None))
                    .values(back_at=utcnow()))
    session.delete(r)
    session.flush()
    audit_service.record(session=session, actor=actor, action="community.resident.remove",
                         resource_type="resident", resource_id=resident_id,
                         subject_person_id=r.person_id, reason=reason or None,
                         detail={"community": c.code, "reason_code": reason_code})


def issue_household_passes(*, session: Session, rt: Runtime, actor: Principal, c: Community,
                           residents: list[Resident]) -> list[Pass]:
    """Sign a long-lived household pass for each resident (good at every gate of the compound).

    The pass names the compound's code as its only area: the decision accepts it at
    gates whose community_code matches and nowhere else (decide.pass_covers_site).
    It is issued by the manager's act of registering the resident, so it is created
    approved, in their name, and audited as issued.
    """
    created = sign_household_passes(session=session, rt=rt, c=c, residents=residents,
                                    applicants={r.id: actor.user_id for r in residents},
                                    decided_by=actor.user_id)
    audit_service.record_many(session=session, actor=actor, entries=[
        {"action": "pass.issue", "resource_type": "pass", "resource_id": p.id,
         "subject_person_id": p.person_id,
         "detail": {"purpose": "household", "community": c.code}} for p in created])
    return created


def sign_household_passes(*, session: Session, rt: Runtime, c: Community,
                          residents: list[Resident], applicants: dict[uuid.UUID, uuid.UUID],
                          decided_by: uuid.UUID | None) -> list[Pass]:
    """Sign a fresh household pass for each resident and make it theirs (`applicants`:
    resident id -> the user named as applicant). Callers audit why."""
    if not residents:
        return []
    now = utcnow()
    until = now + timedelta(days=rt.settings.household_pass_days)
    key = keyring.current_signer(session=session, vault=rt.vault)
    people = {p.id: p for p in session.scalars(
        select(Person).where(Person.id.in_({r.person_id for r in residents})))}
    created = []
    for r in residents:
        p = Pass(id=uuid7(), person_id=r.person_id, applicant_user_id=applicants[r.id],
                 purpose="household", reason=f"{c.name}住户",
                 valid_from=now, valid_until=until, areas=[c.code], sites=[], plate=None,
                 companions=0, area_prefix=significant_prefix(c.code), status="approved",
                 decided_by=decided_by, decided_at=now)
        p.person = people[r.person_id]
        pass_service.sign(session=session, rt=rt, p=p, key=key)
        created.append(p)
    session.add_all(created)
    session.flush()
    for r, p in zip(residents, created, strict=True):
        r.pass_id = p.id
    session.flush()
    return created


def residences_of(*, session: Session, person_id: uuid.UUID
                  ) -> list[tuple[Resident, Household, Building, Community]]:
    """Where a person lives (usually one compound)."""
    rows = session.execute(
        select(Resident, Household, Building, Community)
        .join(Household, Household.id == Resident.household_id)
        .join(Building, Building.id == Household.building_id)
        .join(Community, Community.id == Resident.community_id)
        .where(Resident.person_id == person_id))
    return [tuple(row) for row in rows]  # type: ignore[misc]


def counts(*, session: Session, c: Community) -> dict[str, int]:
    """How many buildings, households and residents the compound has."""
    return counts_of(session=session, cs=[c])[c.id]


def counts_of(*, session: Session, cs: list[Community]) -> dict[uuid.UUID, dict[str, int]]:
    """counts() for many compounds: three grouped queries, whatever their number."""
    ids = [c.id for c in cs]
    out = {i: {"buildings": 0, "households": 0, "residents": 0} for i in ids}
    if not ids:
        return out
    for key, model in (("buildings", Building), ("households", Household),
                       ("residents", Resident)):
        for cid, n in session.execute(select(model.community_id, func.count())
                                      .where(model.community_id.in_(ids))
                                      .group_by(model.community_id)):
            out[cid][key] = n
    return out


def lock_household(session: Session, household_id: uuid.UUID) -> None:
    """Hold the household's row until commit, so a second gate waits for this one.

    Either way (row lock on PostgreSQL, early write lock on SQLite: see lock_row)
    nobody counts a stale number of outings.
    """
    lock_row(session, Household, household_id)


def managers_of(session: Session, c: Community) -> list[uuid.UUID]:
    """The users bound as this compound's managers (they receive its notices)."""
    return list(session.scalars(select(RoleBinding.user_id).where(
        RoleBinding.role == "community_manager", RoleBinding.scope_type == "community",
        RoleBinding.scope_value == c.code).distinct()))
