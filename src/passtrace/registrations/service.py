"""Register people at a site: decide online, or store what an offline device decided."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select, text
from sqlalchemy.orm import Session

from passtrace.audit import service as audit_service
from passtrace.codec import PassRejected, TrustStore, check_at
from passtrace.core.cache import MISS as CACHE_MISS
from passtrace.core.cache import Changes, Miss, TtlCache, runtime_cache
from passtrace.core.clock import utcnow
from passtrace.core.errors import InvalidState, NotFound, ValidationFailed
from passtrace.core.i18n import N_
from passtrace.core.runtime import Runtime
from passtrace.core.security import Principal
from passtrace.core.validators import InvalidValue, validate_id_number, validate_plate
from passtrace.passes import keyring
from passtrace.passes.models import Pass, SigningKeyRecord
from passtrace.people.models import Person
from passtrace.registrations import lookback, stays, verified
from passtrace.registrations.models import Registration
from passtrace.registrations.schemas import RegistrationIn
from passtrace.registrations.site_kinds import provider_for
from passtrace.rules.decide import (
    CODEC_REASONS,
    Facts,
    GateFacts,
    PassFacts,
    SiteRules,
    decide,
    pass_covers_site,
    round_temperature,
)
from passtrace.sites import authz as site_authz
from passtrace.sites import service as site_service
from passtrace.sites.models import DeviceSync, Site


@dataclass
class Checked:
    """A stored registration and whether this request created it."""

    row: Registration
    duplicate: bool
    # At a community gate: the person and the compound's rules, for the result screen.
    notes: list[str] = field(default_factory=list)


def site_rules(site: Site) -> SiteRules:
    """Return the decision rules of a site."""
    return SiteRules(code=site.code, area_code=site.area_code,
                     fever_threshold=float(site.fever_threshold),
                     opening_hours=tuple(site.opening_hours),
                     community_code=site.community_code)


# A device makes a registration's id at the check (lookback.predates).
ID_PREDATES = N_("The registration id was made more than a day before the registration's "
                 "time: check the device clock.")


def is_uuid7(value: uuid.UUID) -> bool:
    """Tell whether an id is a UUIDv7 (time-ordered, as devices must make them)."""
    return value.version == 7 and value.variant == uuid.RFC_4122


def clock_skew(*, now: datetime, sent_at: datetime | None, occurred_at: datetime | None,
               bound_s: int) -> tuple[int | None, bool]:
    """Return the device's clock offset in seconds (if known) and whether it is too large.

    sent_at is the device clock at sending, so sent_at - now is its offset. Without
    it, an occurrence in the future still proves the clock runs ahead.
    """
    if sent_at is not None:
        skew = int((sent_at - now).total_seconds())
    elif occurred_at is not None and occurred_at > now:
        skew = int((occurred_at - now).total_seconds())
    else:
        return None, False
    return skew, abs(skew) > bound_s


def _aware(value: datetime, field: str) -> datetime:
    if value.tzinfo is None:
        raise ValidationFailed("Times need a time zone (e.g. +08:00).",
                               fields={field: "Times need a time zone (e.g. +08:00)."})
    return value


def _pass_facts(p: Any) -> PassFacts:
    return PassFacts(valid_from=p.valid_from, valid_until=p.valid_until,
                     areas=tuple(p.areas), sites=tuple(p.sites), status=p.status)


def pick_best_pass(candidates: list[Any], site: Site, now: datetime) -> Any:
    """Of a person's approved, unexpired passes (latest expiry first), the one that fits here.

    A candidate is anything with a pass's valid_from, valid_until, areas, sites and
    status (an ORM row or a plain row): both ways of reading them pick alike.
    """
    rules = site_rules(site)
    for p in candidates:
        if p.valid_from <= now and pass_covers_site(_pass_facts(p), rules) is None:
            return p
    return candidates[0] if candidates else None


def _best_pass(session: Session, person: Person, site: Site, now: datetime) -> Pass | None:
    """The person's pass that best fits here: approved, current, covering this site."""
    candidates = list(session.scalars(
        select(Pass).where(Pass.person_id == person.id, Pass.status == "approved",
                           Pass.valid_until > now).order_by(Pass.valid_until.desc())))
    return pick_best_pass(candidates, site, now)


INSIDE_PREDICATE = text("decision = 'allow' AND direction IN ('in', 'out')")


def inside_since(site: Site, now: datetime) -> datetime:
    """The oldest "in" that can still make a person "already inside" here: one stay cap
    of the site's kind ago (registrations/lookback.py)."""
    return now - stays.cap_for(site.kind)


def is_inside(session: Session, *, site_id: uuid.UUID, person_hash: str | None,
              pass_id: uuid.UUID | None, since: datetime) -> bool:
    """Tell whether this person's (or pass's) last allowed in/out at the site was an "in"
    that occurred after `since` (inside_since: an older "in" ended at its stay's cap)."""
    if person_hash is None and pass_id is None:
        return False
    # Literal text, not bound values: it must match the partial index
    # ix_registrations_inside even in a prepared (generic) plan. The id bound lets
    # PostgreSQL skip every day partition older than the look-back (lookback.py).
    stmt = select(Registration.direction).where(Registration.site_id == site_id,
                                                INSIDE_PREDICATE,
                                                Registration.occurred_at > since,
                                                Registration.id >= lookback.ids_from(since))
    stmt = stmt.where(Registration.person_hash == person_hash if person_hash
                      else Registration.pass_id == pass_id)
    last = session.scalar(stmt.order_by(Registration.occurred_at.desc()).limit(1))
    return last == "in"


# The trust store (the pass keys, parsed) is rebuilt at most every
# TRUST_CACHE_SECONDS per process instead of on every scan, and at once after a
# signing-key change is flushed or committed in this process. A retired key
# carries its own not_after, checked at each verification.
TRUST_CACHE_SECONDS = 5.0
KEY_CHANGES = Changes(SigningKeyRecord, name="signing_keys")

# Sites, likewise: the row (lanes, fever threshold, open or closed) is re-read at most
# every SITE_CACHE_SECONDS per process, at once after a site change here. The
# caller's authorization is checked against it on every request.
SITE_CACHE_SECONDS = 5.0
SITE_CACHE_MAX = 10_000
SITE_CHANGES = Changes(Site, name="sites")

MISS = CACHE_MISS  # "not in the cache" (None means "cached: no such site")


def _site_cache(rt: Runtime) -> TtlCache[str, Site | None]:
    return runtime_cache(rt.cache, "sites", lambda: TtlCache(
        ttl=SITE_CACHE_SECONDS, max_entries=SITE_CACHE_MAX, changes=SITE_CHANGES))


def _trust_cache(rt: Runtime) -> TtlCache[str, TrustStore]:
    return runtime_cache(rt.cache, "trust_store", lambda: TtlCache(
        ttl=TRUST_CACHE_SECONDS, max_entries=1, changes=KEY_CHANGES))


def cached_site(rt: Runtime, code: str) -> Any:
    """The cached site row for a code (None if there is none), or MISS; no I/O."""
    return _site_cache(rt).get(code)


def load_site(session: Session, rt: Runtime, code: str) -> Site | None:
    """Read a site (the cache's source); the row is kept for SITE_CACHE_SECONDS."""
    cache = _site_cache(rt)
    generation = cache.generation()
    site = site_service.get_by_code(session=session, code=code)
    if site is not None:
        # Detached, so no session's rollback (expiry) or close can touch the shared copy;
        # every column is loaded, and nothing here writes to it.
        session.expunge(site)
        cache.put(code, site, generation=generation)
    return site


def _site(session: Session, rt: Runtime, code: str) -> Site | None:
    site = cached_site(rt, code)
    return load_site(session, rt, code) if site is MISS else site


def cached_trust_store(rt: Runtime) -> TrustStore | None:
    """The cached trust store, if still fresh; no I/O."""
    store = _trust_cache(rt).get("store")
    return None if isinstance(store, Miss) else store


def load_trust_store(session: Session, rt: Runtime) -> TrustStore:
    """Read the pass keys (the cache's source); kept for TRUST_CACHE_SECONDS."""
    cache = _trust_cache(rt)
    generation = cache.generation()
    store = keyring.trust_store(session=session)
    cache.put("store", store, generation=generation)
    return store


def _trust_store(session: Session, rt: Runtime) -> TrustStore:
    return cached_trust_store(rt) or load_trust_store(session, rt)


@dataclass
class Prepared:
    """A registration request checked and its pass verified, before any per-person lookup."""

    site: Site
    now: datetime
    occurred_at: datetime
    skew: int | None
    flagged: bool
    future_margin: timedelta  # an occurrence later than now + this is flagged
    plate: str | None
    facts_kw: dict[str, object]
    pass_id: uuid.UUID | None  # from a verified pass
    claims: Any  # the verified PassClaims, if a pass was scanned and verified
    id_hash: str | None  # keyed hash of a typed ID number
    holder: str
    last4: str


def prepare(*, rt: Runtime, actor: Principal, data: RegistrationIn, site: Site | None,
            trust: Callable[[], TrustStore]) -> Prepared:
    """Check a request that is not a retry and verify its pass; no database access.

    Raises the request's first error (id, site and duty, lane, times, plate, pass or
    ID number), in that order.
    """
    if not is_uuid7(data.id):
        raise ValidationFailed("The registration id must be a UUIDv7 made by the device.",
                               fields={"id": "The registration id must be a UUIDv7 made by "
                                             "the device."})
    site = site_service.check_staff(actor, site)
    if data.lane not in site.lanes:
        raise ValidationFailed("This site has no lane %(lane)s.", lane=data.lane,
                               fields={"lane": "This site has no lane %(lane)s."})
    occurred_at = _aware(data.occurred_at, "occurred_at")
    if lookback.predates(data.id, occurred_at):
        raise ValidationFailed(ID_PREDATES, fields={"id": ID_PREDATES})
    sent_at = _aware(data.sent_at, "sent_at") if data.sent_at else None
    now = utcnow()
    skew, flagged = clock_skew(now=now, sent_at=sent_at, occurred_at=occurred_at,
                               bound_s=rt.settings.clock_skew_seconds)
    plate = None
    if data.plate:
        try:
            plate = validate_plate(data.plate)
        except InvalidValue as exc:
            raise ValidationFailed(exc.message, fields={"plate": exc.message}) from None
    prep = Prepared(site=site, now=now, occurred_at=occurred_at, skew=skew, flagged=flagged,
                    future_margin=timedelta(seconds=rt.settings.clock_skew_seconds),
                    plate=plate, facts_kw={}, pass_id=None, claims=None, id_hash=None,
                    holder="", last4="")
    if data.token:
        try:
            # The signature is checked once per text and trust store (verified.py);
            # the time on every scan.
            claims = check_at(*verified.verify(data.token, trust()), now=int(now.timestamp()))
        except PassRejected as exc:
            prep.facts_kw["pass_rejected"] = CODEC_REASONS.get(exc.reason, "not_a_pass")
        else:
            prep.claims, prep.pass_id = claims, uuid.UUID(claims.pass_id)
            prep.holder, prep.last4 = claims.holder, claims.id_last4
    elif data.id_number:
        try:
            id_number = validate_id_number(data.id_number)
        except InvalidValue as exc:
            raise ValidationFailed(exc.message, fields={"id_number": exc.message}) from None
        prep.id_hash = rt.vault.lookup_hash(id_number)
        prep.last4 = id_number[-4:]
    else:
        raise ValidationFailed("Scan a pass or type an ID number.",
                               fields={"token": "Scan a pass or type an ID number."})
    return prep


def finish(*, prep: Prepared, data: RegistrationIn, actor: Principal, person: Any,
           pass_row: Any, inside: bool, gate: GateFacts | None = None,
           row_type: Callable[..., Any] = Registration,
           ) -> tuple[Registration, dict[str, Any]]:
    """Decide and build the registration row and its audit detail (not stored yet).

    person (id, id_hash, name_masked, id_last4, status) and pass_row (id and the pass
    fields) may be ORM rows or plain rows; None when not found. row_type builds the
    row: the ORM class, or (the PostgreSQL fast path, which never adds it to a
    session) a plain row with the same attributes.
    """
    facts_kw = dict(prep.facts_kw)
    holder, last4, person_hash = prep.holder, prep.last4, prep.id_hash
    if pass_row is not None:
        facts_kw["pass_facts"] = _pass_facts(pass_row)
    elif prep.claims is not None:
        # Signed by a trusted key, yet never issued here: a leaked or misused key minted
        # it. Online the server knows every pass it issued, so it is denied; an offline
        # device cannot tell and lets a validly signed pass through until it syncs.
        facts_kw["pass_rejected"] = "not_a_pass"
    if person is not None:
        holder, last4, person_hash = person.name_masked, person.id_last4, person.id_hash
    site = prep.site
    outcome = decide(Facts(site=site_rules(site), now=prep.now, direction=data.direction,
                           temperature=data.temperature, person_known=person is not None,
                           person_status=person.status if person else None, inside=inside,
                           community=gate, **facts_kw))  # type: ignore[arg-type]
    row = row_type(
        id=data.id, site_id=site.id, lane=data.lane, device_key=data.device_key,
        operator_user_id=actor.user_id, occurred_at=prep.occurred_at, received_at=prep.now,
        clock_skew_s=prep.skew, skew_flagged=prep.flagged,
        future_flagged=prep.occurred_at > prep.now + prep.future_margin,
        direction=data.direction,
        method=data.method, person_hash=person_hash, person_masked=holder, id_last4=last4,
        pass_id=pass_row.id if pass_row is not None else None,
        temperature=round_temperature(data.temperature)
        if data.temperature is not None else None,
        plate=prep.plate, companions=data.companions, origin=data.origin,
        destination=data.destination, decision=outcome.decision, reasons=outcome.reasons,
        decided_by="server")
    return row, {"site": site.code, "decision": outcome.decision, "reasons": outcome.reasons}


def register(*, session: Session, rt: Runtime, actor: Principal,
             data: RegistrationIn) -> Checked:
    """Check one person online: verify, decide, store, audit. A retried id returns the first."""
    existing = session.get(Registration, data.id)
    if existing is not None:
        site = session.get(Site, existing.site_id)
        if site is None or not site_authz.is_staff(actor, site):
            raise NotFound("No such registration.")
        return Checked(row=existing, duplicate=True)
    prep = prepare(rt=rt, actor=actor, data=data, site=_site(session, rt, data.site),
                   trust=lambda: _trust_store(session, rt))
    person: Person | None = None
    pass_row: Pass | None = None
    if prep.pass_id is not None:
        pass_row = session.get(Pass, prep.pass_id)
        person = pass_row.person if pass_row is not None else None
    elif prep.id_hash is not None:
        person = session.scalar(select(Person).where(Person.id_hash == prep.id_hash))
        if person is not None:
            pass_row = _best_pass(session, person, prep.site, prep.now)
    # A site kind with rules of its own (a compound's gate) adds its facts.
    kind = provider_for(prep.site)
    if data.direction == "auto":
        # The guard left the way to the person's state (a resident who is out comes in).
        usual = kind.usual_direction(session, prep.site, person_id=person.id if person else None,
                                     pass_row=pass_row) if kind is not None else None
        data = data.model_copy(update={"direction": usual or "in"})
    gate = kind.gather(session, prep.site, person_id=person.id if person else None,
                       pass_row=pass_row, now=prep.now,
                       direction=data.direction) if kind is not None else None
    inside = gate.inside() if gate is not None else None
    if inside is None:
        # Only an "in" can be refused as "already inside" (rules/decide.py): an "out" or
        # a "through" skips the read.
        inside = data.direction == "in" and is_inside(session, site_id=prep.site.id,
            person_hash=person.id_hash if person is not None else prep.id_hash,
            pass_id=pass_row.id if pass_row else None,
            since=inside_since(prep.site, prep.now))
    row, detail = finish(prep=prep, data=data, actor=actor, person=person, pass_row=pass_row,
                         inside=inside, gate=gate.facts if gate is not None else None)
    session.add(row)  # flushed with the audit entry: one flush, two inserts
    audit_service.record(session=session, actor=actor, action="registration.create",
                         resource_type="registration", resource_id=row.id,
                         subject_person_id=person.id if person else None, detail=detail)
    stays.open_or_close(session, row, site_kind=prep.site.kind)  # under the chain lock
    if kind is None or gate is None:
        return Checked(row=row, duplicate=False)
    kind.record(session, gate, registration_id=row.id, direction=row.direction,
                decision=row.decision, occurred_at=row.occurred_at)
    return Checked(row=row, duplicate=False, notes=kind.notes(
        gate, direction=row.direction, allowed=row.decision == "allow", now=prep.now))


def get_for_staff(*, session: Session, actor: Principal, registration_id: uuid.UUID,
                  for_update: bool = False) -> tuple[Registration, Site]:
    """Get a registration at a site where the actor is on duty."""
    row = session.get(Registration, registration_id, with_for_update=for_update)
    site = session.get(Site, row.site_id) if row else None
    if row is None or site is None or not site_authz.is_staff(actor, site):
        raise NotFound("No such registration.")
    return row, site


def _person_named(session: Session, row: Registration) -> uuid.UUID | None:
    """The person record a registration names (by its ID hash), for their access log."""
    if not row.person_hash:
        return None
    return session.scalar(select(Person.id).where(Person.id_hash == row.person_hash))


def read_for_staff(*, session: Session, actor: Principal,
                   registration_id: uuid.UUID) -> Registration:
    """A registration at a site where the actor is on duty, read again (not at the moment
    of the check): the person it names finds the read in their access log."""
    row, _ = get_for_staff(session=session, actor=actor, registration_id=registration_id)
    person_id = _person_named(session, row)
    if person_id is not None:
        audit_service.record(session=session, actor=actor, action="registration.view",
                             resource_type="registration", resource_id=row.id,
                             subject_person_id=person_id)
    return row


def override(*, session: Session, actor: Principal, registration_id: uuid.UUID,
             reason: str) -> Registration:
    """Let a denied person through, with the guard's reason (audited)."""
    # Race: two guards overriding the same denial at once would both pass the "deny"
    # check and write two override audit entries; the row lock makes the second see
    # the first's "allow" (SQLite: refused as busy).
    row, site = get_for_staff(session=session, actor=actor, registration_id=registration_id,
                              for_update=True)
    if row.decision != "deny":
        raise InvalidState("Only a denial can be overridden.")
    row.decision = "allow"
    row.override_reason = reason
    row.override_by = actor.user_id
    session.flush()
    kind = provider_for(site)
    if kind is not None:  # the guard let them through: the outing or visit happened
        # Lock order, as at the gate: record_offline takes the household (or visit) row
        # and the audit chain's lock before writing the outing. Writing it first, then
        # taking the chain lock for the audit entry below, deadlocked against a gate
        # check of the same person on PostgreSQL (tests/communities/test_override_race.py).
        kind.record_offline(session, site, [{
            "id": row.id, "person_hash": row.person_hash, "pass_id": row.pass_id,
            "direction": row.direction, "decision": row.decision,
            "occurred_at": row.occurred_at}])
    # The person let through sees the guard's override in their access log.
    person_id = _person_named(session, row)
    audit_service.record(session=session, actor=actor, action="registration.override",
                         resource_type="registration", resource_id=row.id, reason=reason,
                         subject_person_id=person_id,
                         detail={"site": site.code, "reasons": list(row.reasons)})
    # Now an allowed in/out; after the audit entry, under the chain lock (stays.py).
    stays.open_or_close(session, row, site_kind=site.kind)
    return row


def heartbeat(*, session: Session, actor: Principal, site_code: str, device_key: str,
              pending: int, synced: bool = False) -> None:
    """Remember a device's queue length (and its last sync) for the lane statistics."""
    site = site_service.get_for_staff(session=session, actor=actor, code=site_code)
    now = utcnow()
    state = session.scalar(select(DeviceSync).where(DeviceSync.site_id == site.id,
                                                    DeviceSync.device_key == device_key))
    if state is None:
        state = DeviceSync(site_id=site.id, device_key=device_key, last_seen_at=now)
        session.add(state)
    state.pending = pending
    state.operator_user_id = actor.user_id
    state.last_seen_at = now
    if synced:
        state.last_sync_at = now
    session.flush()

