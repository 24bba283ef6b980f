"""Running the rules (for jobs and the CLI), admins' rule changes, and alerts raised by
other domains (supply shortages)."""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from passtrace.areas.models import AreaRisk
from passtrace.audit import service as audit_service
from passtrace.core.clock import local_today, utcnow
from passtrace.core.config import Settings
from passtrace.core.db import dialect_insert, own_connections, session_scope
from passtrace.core.errors import NotFound, ValidationFailed
from passtrace.core.i18n import N_
from passtrace.core.security import Principal
from passtrace.notices.service import standard_notifier
from passtrace.warnings import alerts, detect, effects, engine, registry, shards
from passtrace.warnings.models import SEVERITIES, Alert, RuleSetting
from passtrace.warnings.shards import HashRange


@dataclass
class RunStats:
    """What one run did: new alerts per rule, areas scanned, officials told."""

    days: list[str] = field(default_factory=list)
    new: dict[str, int] = field(default_factory=dict)
    scanned_areas: int = 0
    notified: int = 0
    flags_raised: int = 0

    @property
    def total(self) -> int:
        """All new alerts."""
        return sum(self.new.values())


# How many parts a declaration's visitors are applied in, each on a connection of its
# own (scan_declarations): the machines this runs on have two cores or more, and a
# part's statements keep one core busy.
PARTS = 2


@dataclass
class Scanned:
    """What scanning the pending declarations did."""

    areas: int = 0
    alerts: int = 0
    flags: int = 0
    # The newest alert's id before the scan began (scan_declarations_telling): the
    # officials' notices of the run count from it, so they include the scan's alerts.
    after_id: int | None = None

    def add(self, found: int, flags: int) -> None:
        self.alerts += found
        self.flags += flags


def apply_part(*, session: Session, risk: engine.Declared, until: datetime,
               persons: HashRange, visitors: engine.Copied | None = None) -> tuple[int, int]:
    """One part of a declaration, in `session`'s transaction: the alerts of the visitors
    whose hash is in `persons`, then their flags; (alerts, flags) made.

    Idempotent: run again (a retry after a crash, a second runner), its alerts exist
    already (their dedupe key), so it finds nothing new and raises nothing; and as the
    alerts and their flags commit together, a part is either all there or not at all."""
    pg = session.get_bind().dialect.name == "postgresql"
    mark = alerts.last_id(session=session)
    if visitors is None:
        found = engine.scan_declared(session=session, risk=risk, until=until,
                                     persons=persons)
    else:  # this part's visitors, found by the claim's one scan
        found = detect.insert_copied(session, visitors.rule, visitors.day, visitors.lines)
    if not found:
        return 0, 0
    # This part's new alerts only: another part's, committed meanwhile on its own
    # connection, are its to flag.
    flags = effects.apply_new(session=session, after_id=mark, only=[
        Alert.rule_code == "risk_visit", *persons.where(Alert.person_hash, pg=pg)])
    return found, flags


def _to_apply(session: Session, risk: AreaRisk) -> datetime | None:
    """Until when the declaration's visitors are to be flagged, or None: nobody.

    A declaration lifted before its scan ran (declared in error) flags nobody. But one
    whose apply failed half way (a part committed on its own connection, the other
    failed) and was lifted before the retry must be finished: half its visitors yellow
    and the other half never alerted would be right neither for a real declaration nor
    for one made in error; finished, it is what any lift after a scan leaves (the
    visitors found stay flagged), its window ending at the lift."""
    if risk.lifted_at is None:
        return utcnow()
    day = engine.declared_day(risk)
    begun = session.scalar(select(Alert.id).where(
        Alert.rule_code == "risk_visit", Alert.day == day,
        Alert.evidence["risk"].as_string() == str(risk.id)).limit(1))
    return min(risk.lifted_at, utcnow()) if begun is not None else None


def _claim(session: Session, *, limit: int | None = None) -> list[AreaRisk]:
    """The declarations not scanned yet, locked for this transaction.

    Race: two runners at once would both scan the same declaration. Its alerts and
    flags would still be made once (their dedupe keys), but both would pay for the scan;
    the row lock (SKIP LOCKED on PostgreSQL: the second runner moves on to other work;
    SQLite has one writer at a time anyway) makes one runner scan it. A lift waits for
    the lock too: it ends the risk once the scan is over (the visitors found stay
    flagged, as after any lift)."""
    return list(session.scalars(
        select(AreaRisk).where(AreaRisk.scanned_at.is_(None))
        .order_by(AreaRisk.created_at).limit(limit).with_for_update(skip_locked=True)))


def scan_pending(*, session: Session, parts: int = 1,
                 after_part: Callable[[], None] | None = None) -> Scanned:
    """Scan the recent visitors of every declared area not scanned yet and flag them, in
    `session`'s transaction (`parts` at a time, one after the other).

    A declaration lifted before its scan ran (declared in error) flags nobody: it is
    only marked scanned. `after_part` is called after each part (tests)."""
    done = Scanned()
    pending = _claim(session)
    for risk in pending:
        until = _to_apply(session, risk)
        if until is not None:
            declared = engine.Declared.of(risk)
            for persons in shards.split(parts):
                done.add(*apply_part(session=session, risk=declared, until=until,
                                     persons=persons))
                if after_part is not None:
                    after_part()
        risk.scanned_at = utcnow()
    session.flush()
    done.areas = len(pending)
    return done


def _apply_in_parts(sessions: sessionmaker[Session], claim: Session, risk: AreaRisk,
                    until: datetime, parts: int, after_part: Callable[[], None] | None,
                    done: Scanned) -> None:
    """Scan a claimed declaration once and apply its visitors in `parts` parts at once,
    each on a connection and in a transaction of its own; their counts added to `done`."""
    declared = engine.Declared.of(risk)
    # One scan, here, its rows handed to the parts (COPY out and in): each part reading
    # the area's registrations, reported stops and people again cost 5-6 s of CPU more
    # at the size.
    copied = engine.copy_declared(session=claim, risk=declared, until=until)
    if copied is None:  # the rule is off
        return

    def part(persons: HashRange) -> tuple[int, int]:
        for session in session_scope(sessions, write=True):
            made = apply_part(session=session, risk=declared, until=until,
                              persons=persons, visitors=copied.part(persons))
        if after_part is not None:
            after_part()
        return made

    ranges = shards.split(parts)
    with ThreadPoolExecutor(max_workers=len(ranges), thread_name_prefix="declare") as pool:
        # list(): the first part to fail raises here, after all have ended.
        for made in list(pool.map(part, ranges)):
            done.add(*made)


def scan_declarations(*, sessions: sessionmaker[Session], parts: int = PARTS,
                      after_part: Callable[[], None] | None = None) -> Scanned:
    """Scan and flag the pending declarations, each in `parts` parts by person hash, the
    parts at once on connections of their own, each part its own transaction (the job
    runner's way: a county's 215,000 visitors take two cores instead of one).

    While its parts run, the declaration stays claimed and unscanned (`scanned_at`
    NULL: "being applied" on the officials' list): a part committed shows its persons
    flagged and yellow before the other part's do. A part that fails leaves the
    declaration unscanned; the next run applies it again, and the parts done already
    find nothing new (apply_part). Elsewhere (SQLite, shared connections) the parts run
    one after the other in one transaction (scan_pending)."""
    done = Scanned()
    if parts <= 1 or not own_connections(sessions):
        # (No return inside the loop: leaving session_scope early rolls back.)
        for session in session_scope(sessions, write=True):
            done = scan_pending(session=session, parts=parts, after_part=after_part)
        return done
    claimed = True
    while claimed:
        claimed = False
        # One declaration a transaction: the claim holds its row lock while the parts
        # run on other connections (the parts never touch area_risks, so they cannot
        # wait for it), and a lift of another declaration need not wait for this one.
        for claim in session_scope(sessions, write=True):
            for risk in _claim(claim, limit=1):
                claimed = True
                done.areas += 1
                to_apply = _to_apply(claim, risk)
                if to_apply is not None:
                    _apply_in_parts(sessions, claim, risk, to_apply, parts, after_part, done)
                risk.scanned_at = utcnow()
            claim.flush()
    return done


def scan_declarations_telling(*, sessions: sessionmaker[Session],
                              settings: Settings) -> Scanned:
    """scan_declarations, marked with the alert id it began after (for `run`'s notices),
    and if a part fails, the officials told of the alerts the parts that did commit made
    before the error goes on.

    The next run applies the declaration again, but the parts done already find nothing
    new, and its notices start from alerts made after it began: without this, officials
    would never hear of the first part's alerts."""
    with sessions() as session:
        after_id = alerts.last_id(session=session)
    try:
        done = scan_declarations(sessions=sessions)
    except Exception:
        for session in session_scope(sessions, write=True):
            alerts.notify_new(session=session, notifier=standard_notifier(session, settings),
                              after_id=after_id)
        raise
    done.after_id = after_id
    return done


def run(*, session: Session, settings: Settings, days: list[date] | None = None,
        scanned: Scanned | None = None) -> RunStats:
    """The windowed rules over the given days (default yesterday and today: late uploads
    arrive for a day), the pending declared-area scans, then one notice per official.

    `scanned`: what scan_declarations_telling did just before, in its own transactions
    (the job's way), counted in, and its alerts in the officials' notices."""
    today = local_today()
    days = days or [today - timedelta(days=1), today]
    stats = RunStats(days=[d.isoformat() for d in days])
    before = scanned or Scanned()
    notify_mark = (alerts.last_id(session=session) if before.after_id is None
                   else before.after_id)
    # Declarations first: a person who visited a just-declared area gets its alert (all
    # the visits as evidence) rather than the windowed rule's for today's visit alone;
    # the two share the dedupe key, so the second finds nothing new. Their flags are
    # raised with them (apply_part), so the flags below count from after them.
    here = scan_pending(session=session)
    stats.scanned_areas = before.areas + here.areas
    declared = before.alerts + here.alerts
    mark = alerts.last_id(session=session)
    for day in days:
        for code, count in engine.run_day(session=session, day=day).items():
            stats.new[code] = stats.new.get(code, 0) + count
    # Supplies: a shortage is a state of today, not of a past day's registrations.
    from passtrace.warnings import shortages  # here: shortages imports this module

    short = shortages.raise_for_day(session=session, today=today)
    if short:
        stats.new["supply_shortage"] = stats.new.get("supply_shortage", 0) + short
    if declared:
        stats.new["risk_visit"] = stats.new.get("risk_visit", 0) + declared
    stats.flags_raised = (before.flags + here.flags
                          + effects.apply_new(session=session, after_id=mark))
    stats.notified = alerts.notify_new(session=session,
                                       notifier=standard_notifier(session, settings),
                                       after_id=notify_mark)
    return stats


def update_rule(*, session: Session, actor: Principal, code: str, severity: str,
                enabled: bool, params: dict[str, int]) -> registry.Effective:
    """An admin changes a rule's severity, parameters or on/off (audited, before/after)."""
    rule = registry.RULES.get(code)
    if rule is None:
        raise NotFound("No such rule.")
    if severity not in SEVERITIES:
        msg = N_("Choose a severity.")
        raise ValidationFailed(msg, fields={"severity": msg})
    for name, value in params.items():
        spec = rule.params.get(name)
        if spec is None:
            msg = N_("This rule has no such parameter.")
            raise ValidationFailed(msg, fields={name[:40]: msg})
        if not spec.low <= value <= spec.high:
            msg = N_("Must be between %(low)s and %(high)s.")
            raise ValidationFailed(msg, fields={name: msg}, low=spec.low, high=spec.high)
    before = registry.effective(session=session)[code]
    # Race: two admins saving at once; the row lock (or the insert's primary key) keeps
    # the audit's "before" true for whichever commits second.
    row = session.get(RuleSetting, code, with_for_update=True)
    if row is None:
        row = RuleSetting(code=code, severity=severity, enabled=enabled, params={},
                          updated_at=utcnow())
        session.add(row)
    row.severity, row.enabled = severity, enabled
    row.params = {**before.params, **params}
    row.updated_at, row.updated_by = utcnow(), actor.user_id
    session.flush()
    after = registry.effective(session=session)[code]
    audit_service.record(session=session, actor=actor, action="rule.update",
                         resource_type="warning_rule", resource_id=code,
                         detail={"before": {"severity": before.severity,
                                            "enabled": before.enabled,
                                            "params": before.params},
                                 "after": {"severity": after.severity,
                                           "enabled": after.enabled,
                                           "params": after.params}})
    return after


def raise_alert(*, session: Session, rule_code: str, subject_kind: str, subject_key: str,
                area_code: str, evidence: dict[str, Any], day: date | None = None,
                person_hash: str | None = None, masked: str = "") -> bool:
    """Raise one alert from another domain (the supplies domain's shortages); False when
    the (rule, subject, day) alert exists already."""
    rule = registry.effective(session=session)[rule_code]
    if not rule.enabled:
        return False
    day = day or local_today()
    stmt = dialect_insert(session)(Alert.__table__).values(
        rule_code=rule_code, severity=rule.severity, subject_kind=subject_kind,
        subject_key=subject_key, person_hash=person_hash, subject_masked=masked,
        area_code=area_code, queue_area=area_code, day=day, evidence=evidence,
        status="open", note="", escalations=0, created_at=utcnow(),
    ).on_conflict_do_nothing(index_elements=["rule_code", "subject_key", "day"])
    done = session.execute(stmt.execution_options(preserve_rowcount=True))
    return bool(done.rowcount)  # type: ignore[attr-defined]
