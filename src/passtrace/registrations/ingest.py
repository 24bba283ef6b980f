"""Batch upload: thousands of registrations a device made, stored exactly once.

The device already decided (offline, with the same rules); the server checks
each row's shape, resolves pass and person in two bulk queries, and inserts
every good row in one statement: COPY into a temporary table and
INSERT ... ON CONFLICT DO NOTHING on PostgreSQL, executemany on SQLite. A row
whose id is already stored is reported as a duplicate, so re-sending a batch
changes nothing. Rows are parsed by hand, not by pydantic: at 40,000 rows a
second every microsecond per row counts.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from passtrace.audit import service as audit_service
from passtrace.core.clock import utcnow
from passtrace.core.i18n import N_, gettext
from passtrace.core.runtime import Runtime
from passtrace.core.security import Principal
from passtrace.core.validators import InvalidValue, validate_id_number, validate_plate
from passtrace.passes.models import Pass
from passtrace.people.models import Person
from passtrace.registrations.decide import REASONS
from passtrace.registrations.models import DECISIONS, DIRECTIONS, METHODS, Registration
from passtrace.registrations.schemas import BatchIn, BatchOut, BatchRowResult
from passtrace.registrations.service import clock_skew, heartbeat
from passtrace.sites import service as site_service

# How far in the future (server clock) an occurrence may lie before the row is refused.
FUTURE_LIMIT = timedelta(days=1)
# Devices queue for days at worst; older rows are refused rather than silently stored.
PAST_LIMIT = timedelta(days=30)
COLUMNS = ("id", "site_id", "lane", "device_key", "operator_user_id", "occurred_at",
           "received_at", "clock_skew_s", "skew_flagged", "direction", "method",
           "person_hash", "person_masked", "id_last4", "pass_id", "temperature", "plate",
           "companions", "origin", "destination", "decision", "reasons", "decided_by",
           "override_reason", "override_by")


class RowError(Exception):
    """A row that cannot be stored; the message is an English msgid."""

    def __init__(self, message: str, **params: Any) -> None:
        super().__init__(message)
        self.message = message
        self.params = params


@dataclass
class ParsedRow:
    """A row checked for shape, not yet resolved to a pass/person."""

    values: dict[str, Any]
    id_number: str | None


def _text(raw: dict[str, Any], key: str, limit: int, default: str = "") -> str:
    value = raw.get(key, default)
    if value is None:
        return default
    if not isinstance(value, str) or len(value) > limit:
        raise RowError(N_("The field %(field)s is not valid."), field=key)
    return value.strip()


def _choice(raw: dict[str, Any], key: str, allowed: tuple[str, ...], default: str) -> str:
    value = raw.get(key, default)
    if value not in allowed:
        raise RowError(N_("The field %(field)s is not valid."), field=key)
    return str(value)


def _time(raw: dict[str, Any], key: str) -> datetime:
    value = raw.get(key)
    try:
        parsed = datetime.fromisoformat(value) if isinstance(value, str) else None
    except ValueError:
        parsed = None
    if parsed is None or parsed.tzinfo is None:
        raise RowError(N_("The field %(field)s must be a time with a time zone."), field=key)
    return parsed


def parse_row(raw: object, *, site_lanes: frozenset[str], default_lane: str,
              now: datetime) -> ParsedRow:
    """Check one uploaded row; raise RowError with the reason it is refused."""
    if not isinstance(raw, dict):
        raise RowError(N_("Each registration must be a JSON object."))
    rid = raw.get("id")
    try:
        ident = uuid.UUID(rid) if isinstance(rid, str) else None
    except ValueError:
        ident = None
    if ident is None or ident.version != 7:
        raise RowError(N_("The registration id must be a UUIDv7 made by the device."))
    lane = _text(raw, "lane", 16, default_lane) or default_lane
    if lane not in site_lanes:
        raise RowError(N_("This site has no lane %(lane)s."), lane=lane)
    occurred = _time(raw, "occurred_at")
    if occurred > now + FUTURE_LIMIT or occurred < now - PAST_LIMIT:
        raise RowError(N_("The time of this registration is impossible: check the device "
                          "clock."))
    temperature = raw.get("temperature")
    if temperature is not None:
        if isinstance(temperature, bool) or not isinstance(temperature, int | float) or not (
                30.0 <= temperature <= 45.0):
            raise RowError(N_("The temperature must be between 30.0 and 45.0 °C."))
        temperature = round(float(temperature), 1)
    companions = raw.get("companions", 0)
    if isinstance(companions, bool) or not isinstance(companions, int) or not (
            0 <= companions <= 20):
        raise RowError(N_("The field %(field)s is not valid."), field="companions")
    reasons = raw.get("reasons", [])
    if not isinstance(reasons, list) or any(r not in REASONS for r in reasons):
        raise RowError(N_("The field %(field)s is not valid."), field="reasons")
    decision = _choice(raw, "decision", DECISIONS, "")
    if (decision == "allow") == bool(reasons) and not raw.get("override_reason"):
        raise RowError(N_("A denial needs its reasons, and an allowed row has none."))
    pass_id = raw.get("pass_id")
    if pass_id is not None:
        try:
            pass_id = uuid.UUID(pass_id) if isinstance(pass_id, str) else None
        except ValueError:
            pass_id = None
        if pass_id is None:
            raise RowError(N_("The field %(field)s is not valid."), field="pass_id")
    id_number = raw.get("id_number")
    if id_number is not None:
        if not isinstance(id_number, str):
            raise RowError(N_("The field %(field)s is not valid."), field="id_number")
        try:
            id_number = validate_id_number(id_number)
        except InvalidValue as exc:
            raise RowError(exc.message) from None
    if pass_id is None and id_number is None:
        raise RowError(N_("Scan a pass or type an ID number."))
    plate = raw.get("plate")
    if plate:
        if not isinstance(plate, str):
            raise RowError(N_("The field %(field)s is not valid."), field="plate")
        try:
            plate = validate_plate(plate)
        except InvalidValue as exc:
            raise RowError(exc.message) from None
    override_reason = _text(raw, "override_reason", 500) or None
    return ParsedRow(values={
        "id": ident, "lane": lane, "occurred_at": occurred,
        "direction": _choice(raw, "direction", DIRECTIONS, "in"),
        "method": _choice(raw, "method", METHODS, "qr"),
        "person_masked": _text(raw, "holder", 32), "id_last4": _text(raw, "id_last4", 4),
        "pass_id": pass_id, "temperature": temperature, "plate": plate or None,
        "companions": companions, "origin": _text(raw, "origin", 64),
        "destination": _text(raw, "destination", 64), "decision": decision,
        "reasons": list(reasons), "override_reason": override_reason,
    }, id_number=id_number)


def _resolve_people(session: Session, rt: Runtime, rows: list[ParsedRow]) -> None:
    """Fill person_hash (and masked name) from the pass or typed ID, in two queries."""
    pass_ids = {r.values["pass_id"] for r in rows if r.values["pass_id"] is not None}
    by_pass: dict[uuid.UUID, tuple[str, str, str]] = {}
    for chunk in _chunks(list(pass_ids), 1000):
        stmt = (select(Pass.id, Person.id_hash, Person.name_masked, Person.id_masked)
                .join(Person, Pass.person_id == Person.id).where(Pass.id.in_(chunk)))
        for pid, digest, name, masked in session.execute(stmt):
            by_pass[pid] = (digest, name, masked[-4:])
    hashes: dict[str, str] = {}
    for r in rows:
        if r.id_number is not None:
            hashes[r.id_number] = rt.vault.lookup_hash(r.id_number)
    by_hash: dict[str, tuple[str, str]] = {}
    for chunk in _chunks(list(set(hashes.values())), 1000):
        stmt = select(Person.id_hash, Person.name_masked, Person.id_masked).where(
            Person.id_hash.in_(chunk))
        for digest, name, masked in session.execute(stmt):
            by_hash[digest] = (name, masked[-4:])
    for r in rows:
        v = r.values
        found = by_pass.get(v["pass_id"]) if v["pass_id"] is not None else None
        if found is not None:
            v["person_hash"], name, last4 = found
        elif r.id_number is not None:
            v["person_hash"] = hashes[r.id_number]
            name, last4 = by_hash.get(v["person_hash"], ("", r.id_number[-4:]))
        else:
            v["person_hash"], name, last4 = None, "", ""
        v["person_masked"] = v["person_masked"] or name
        v["id_last4"] = v["id_last4"] or last4


def _chunks(items: list[Any], size: int) -> Iterable[list[Any]]:
    for i in range(0, len(items), size):
        yield items[i:i + size]


def _insert_postgres(session: Session, rows: list[dict[str, Any]]) -> set[uuid.UUID]:
    """COPY into a temp table, then insert what is new; return the ids inserted."""
    raw = session.connection().connection.driver_connection
    assert raw is not None
    with raw.cursor() as cur:
        cur.execute("CREATE TEMP TABLE IF NOT EXISTS registrations_in "
                    "(LIKE registrations INCLUDING DEFAULTS) ON COMMIT DELETE ROWS")
        cur.execute("TRUNCATE registrations_in")
        cols = ", ".join(COLUMNS)
        with cur.copy(f"COPY registrations_in ({cols}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row([json.dumps(row[c]) if c == "reasons" else row[c]
                                for c in COLUMNS])
        cur.execute(f"INSERT INTO registrations ({cols}) SELECT {cols} FROM registrations_in "
                    "ON CONFLICT (id) DO NOTHING RETURNING id")
        return {r[0] for r in cur.fetchall()}


def _insert_generic(session: Session, rows: list[dict[str, Any]]) -> set[uuid.UUID]:
    """Find the ids already stored, then insert the rest in one executemany."""
    ids = [r["id"] for r in rows]
    existing: set[uuid.UUID] = set()
    for chunk in _chunks(ids, 500):
        existing.update(session.scalars(select(Registration.id).where(
            Registration.id.in_(chunk))))
    fresh = [r for r in rows if r["id"] not in existing]
    if fresh:
        session.execute(insert(Registration), fresh)
    return {r["id"] for r in fresh}


def ingest(*, session: Session, rt: Runtime, actor: Principal, batch: BatchIn) -> BatchOut:
    """Store a device's batch; each row is stored, a duplicate, or rejected with its reason."""
    site = site_service.get_for_staff(session=session, actor=actor, code=batch.site)
    now = utcnow()
    sent_at = batch.sent_at if batch.sent_at and batch.sent_at.tzinfo else None
    skew, flagged = clock_skew(now=now, sent_at=sent_at, occurred_at=None,
                               bound_s=rt.settings.clock_skew_seconds)
    lanes = frozenset(site.lanes)
    default_lane = site.lanes[0]
    results: list[BatchRowResult] = []
    parsed: list[ParsedRow] = []
    seen: set[uuid.UUID] = set()
    position: list[int] = []
    for raw in batch.registrations:
        rid = raw.get("id") if isinstance(raw, dict) else None
        label = rid if isinstance(rid, str) else ""
        try:
            row = parse_row(raw, site_lanes=lanes, default_lane=default_lane, now=now)
        except RowError as exc:
            results.append(BatchRowResult(id=label[:64], status="rejected",
                                          error=gettext(exc.message, **exc.params)))
            continue
        if row.values["id"] in seen:
            results.append(BatchRowResult(id=label, status="duplicate"))
            continue
        seen.add(row.values["id"])
        position.append(len(results))
        results.append(BatchRowResult(id=label, status="stored"))
        parsed.append(row)
    _resolve_people(session, rt, parsed)
    common = {"site_id": site.id, "device_key": batch.device_key,
              "operator_user_id": actor.user_id, "received_at": now, "clock_skew_s": skew,
              "skew_flagged": flagged, "decided_by": "device"}
    rows = []
    for r in parsed:
        values = r.values | common
        values["override_by"] = actor.user_id if values["override_reason"] else None
        rows.append(values)
    if session.get_bind().dialect.name == "postgresql":
        inserted = _insert_postgres(session, rows) if rows else set()
    else:
        inserted = _insert_generic(session, rows) if rows else set()
    for i, r in zip(position, rows, strict=True):
        if r["id"] not in inserted:
            results[i] = BatchRowResult(id=results[i].id, status="duplicate")
    stored = sum(1 for r in results if r.status == "stored")
    dup = sum(1 for r in results if r.status == "duplicate")
    rejected = len(results) - stored - dup
    heartbeat(session=session, actor=actor, site_code=site.code, device_key=batch.device_key,
              pending=batch.pending, synced=True)
    audit_service.record(session=session, actor=actor, action="registration.batch",
                         resource_type="site", resource_id=site.code,
                         detail={"device": batch.device_key, "stored": stored,
                                 "duplicates": dup, "rejected": rejected,
                                 "overrides": sum(1 for r in rows if r["override_reason"]
                                                  and r["id"] in inserted),
                                 "clock_skew_s": skew, "skew_flagged": flagged})
    return BatchOut(stored=stored, duplicates=dup, rejected=rejected, skew_flagged=flagged,
                    clock_skew_s=skew, results=results)
