"""Batch upload: thousands of registrations a device made, stored exactly once.

The device already decided (offline, with the same rules, but without what only
the server knows); the server checks each row's shape, judges every row again
from the facts in a few bulk queries (registrations.judge: signatures, revocation,
the person's passes and status), keeps the device's decision beside its own, and
inserts every good row in one statement: binary COPY on PostgreSQL (through a
temporary table and INSERT ... ON CONFLICT DO NOTHING when some are stored
already), executemany on SQLite. A row
whose id is already stored is reported as a duplicate, so re-sending a batch
changes nothing. Rows are parsed by hand, not by pydantic: at 40,000 rows a
second every microsecond per row counts. Most batches arrive as typed rows
(typed_batch.py), which defer to parse_row for every refusal.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from functools import lru_cache
from typing import Any

import orjson
import psycopg
from psycopg.types.json import set_json_dumps
from sqlalchemy import Uuid, column, insert, select, table
from sqlalchemy.orm import Session

from passtrace.audit import service as audit_service
from passtrace.core.clock import utcnow
from passtrace.core.errors import NotFound, Unauthorized
from passtrace.core.i18n import N_, gettext
from passtrace.core.runtime import Runtime
from passtrace.core.security import Principal
from passtrace.core.validators import InvalidValue, validate_id_number, validate_plate
from passtrace.registrations import lookback, stays
from passtrace.registrations.judge import judge
from passtrace.registrations.models import DECISIONS, DEVICE_METHODS, DIRECTIONS, Registration
from passtrace.registrations.schemas import BatchIn
from passtrace.registrations.service import ID_PREDATES as _ID_PREDATES
from passtrace.registrations.service import clock_skew, heartbeat
from passtrace.registrations.site_kinds import provider_for
from passtrace.rules.decide import REASONS, round_temperature
from passtrace.rules.offline import is_masked_name
from passtrace.sites import service as site_service
from passtrace.sites.models import Site

# How far in the future (server clock) an occurrence may lie before the row is refused.
FUTURE_LIMIT = timedelta(days=1)
# Devices queue for days at worst; older rows are refused rather than silently stored.
PAST_LIMIT = timedelta(days=30)
COLUMNS = ("id", "site_id", "lane", "device_key", "operator_user_id", "occurred_at",
           "received_at", "clock_skew_s", "skew_flagged", "future_flagged", "direction",
           "method",
           "person_hash", "person_masked", "id_last4", "pass_id", "temperature", "plate",
           "companions", "origin", "destination", "decision", "reasons", "decided_by",
           "override_reason", "override_by", "device_decision", "device_reasons",
           "disagreement")


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
    token: str | None = None  # the scanned pass text, verified again by the server


_BAD_FIELD = N_("The field %(field)s is not valid.")
# Optional free-text fields: (key in the upload, key stored, longest accepted).
TEXT_LIMITS = (("holder", "person_masked", 32), ("id_last4", "id_last4", 4),
               ("origin", "origin", 64), ("destination", "destination", 64))
_TEXT_KEYS = frozenset(key for key, _, _ in TEXT_LIMITS)


_new_object = object.__new__
_set_slot = object.__setattr__
_UNKNOWN_SAFETY = uuid.SafeUUID.unknown


def uuid7_of(text: str) -> uuid.UUID | None:
    """The UUIDv7 `text` spells, else None: exactly what `uuid.UUID(text)` accepts with
    version 7, about three times faster for the usual 8-4-4-4-12 spelling.

    uuid.UUID() checks and converts in Python (several µs a row at 40,000 rows a second);
    for that spelling its work comes down to the same int(hex, 16) and two attributes.
    Any other spelling (braces, urn:uuid:, no hyphens) goes through uuid.UUID itself.
    """
    hexa = text.replace("-", "")
    if len(text) != 36 or len(hexa) != 32:
        try:
            slow = uuid.UUID(text)
        except ValueError:
            return None
        return slow if slow.version == 7 else None
    try:
        value = int(hexa, 16)
    except ValueError:
        return None
    # uuid.UUID.version is None unless the variant is RFC 4122 (bits 63-62 are 10).
    if (value >> 76) & 0xF != 7 or (value >> 62) & 0x3 != 0b10:
        return None
    ident = _new_object(uuid.UUID)
    _set_slot(ident, "int", value)  # as uuid.UUID.__init__ does (the class is immutable)
    _set_slot(ident, "is_safe", _UNKNOWN_SAFETY)
    return ident


def stored_values(*, ident: uuid.UUID, lane: str, occurred: datetime, direction: str,
                  method: str, pass_id: Any, temperature: Any, plate: str | None,
                  companions: int, decision: str, reasons: Any,
                  override_reason: str | None) -> dict[str, Any]:
    """A checked row's stored values, as parse_row and typed_batch.parse_typed both make
    them. The free texts start empty: the usual row has none of them to check."""
    return {
        "id": ident, "lane": lane, "occurred_at": occurred, "direction": direction,
        "method": method, "pass_id": pass_id, "temperature": temperature,
        "plate": plate or None, "companions": companions, "decision": decision,
        "reasons": list(reasons), "override_reason": override_reason,
        "person_masked": "", "id_last4": "", "origin": "", "destination": "",
    }


def parse_row(raw: object, *, site_lanes: frozenset[str], default_lane: str,
              now: datetime, earliest: datetime | None = None,
              latest: datetime | None = None,
              memo: dict[tuple[str, Any], Any] | None = None) -> ParsedRow:
    """Check one uploaded row; raise RowError with the reason it is refused.

    This runs for every row of every batch (tens of thousands a second), so it
    inlines the simple checks rather than calling helpers for each field. `memo`
    (one per batch) keeps the parsed pass ids and checked ID numbers by their exact
    text, and the rounded temperatures: a batch names a few hundred people thousands
    of times, and readings repeat.
    """
    if memo is None:
        memo = {}
    if not isinstance(raw, dict):
        raise RowError(N_("Each registration must be a JSON object."))
    get = raw.get  # one attribute lookup for the twenty reads below
    rid = get("id")
    ident = uuid7_of(rid) if isinstance(rid, str) else None
    if ident is None:
        raise RowError(N_("The registration id must be a UUIDv7 made by the device."))
    lane = get("lane")
    if lane is None:
        lane = default_lane
    elif not isinstance(lane, str) or len(lane) > 16:
        raise RowError(_BAD_FIELD, field="lane")
    else:
        lane = lane.strip() or default_lane
    if lane not in site_lanes:
        raise RowError(N_("This site has no lane %(lane)s."), lane=lane)
    occurred = get("occurred_at")
    try:
        occurred = datetime.fromisoformat(occurred) if isinstance(occurred, str) else None
    except ValueError:
        occurred = None
    if occurred is None or occurred.tzinfo is None:
        raise RowError(N_("The field %(field)s must be a time with a time zone."),
                       field="occurred_at")
    if occurred > (latest or now + FUTURE_LIMIT) or occurred < (earliest or now - PAST_LIMIT):
        raise RowError(N_("The time of this registration is impossible: check the device "
                          "clock."))
    if lookback.predates(ident, occurred):
        raise RowError(_ID_PREDATES)
    temperature = get("temperature")
    if temperature is not None:
        if temperature.__class__ not in (int, float) or not 30.0 <= temperature <= 45.0:
            raise RowError(N_("The temperature must be between 30.0 and 45.0 °C."))
        rounded = memo.get(("temperature", temperature))
        if rounded is None:
            rounded = memo["temperature", temperature] = round_temperature(float(temperature))
        temperature = rounded
    companions = get("companions", 0)
    if companions.__class__ is not int or not 0 <= companions <= 20:
        raise RowError(_BAD_FIELD, field="companions")
    reasons = get("reasons", [])
    if reasons.__class__ is not list or (reasons and any(
            r.__class__ is not str or r not in REASONS for r in reasons)):
        raise RowError(_BAD_FIELD, field="reasons")
    decision = get("decision", "")
    if decision not in DECISIONS:
        raise RowError(_BAD_FIELD, field="decision")
    override_reason = overridden = get("override_reason")
    if override_reason is not None:
        if not isinstance(override_reason, str) or len(override_reason) > 500:
            raise RowError(_BAD_FIELD, field="override_reason")
        override_reason = override_reason.strip() or None
    if (decision == "allow") == bool(reasons) and not overridden:
        raise RowError(N_("A denial needs its reasons, and an allowed row has none."))
    pass_id = get("pass_id")
    if pass_id is not None:
        if pass_id.__class__ is not str:
            raise RowError(_BAD_FIELD, field="pass_id")
        known = memo.get(("pass_id", pass_id))
        if known is None:
            try:
                known = memo["pass_id", pass_id] = uuid.UUID(pass_id)
            except ValueError:
                raise RowError(_BAD_FIELD, field="pass_id") from None
        pass_id = known
    id_number = get("id_number")
    if id_number is not None:
        if not isinstance(id_number, str):
            raise RowError(_BAD_FIELD, field="id_number")
        checked: Any = memo.get(("id_number", id_number))
        if checked is None:
            try:
                checked = validate_id_number(id_number)
            except InvalidValue as exc:
                checked = (exc.message,)  # refused: the reason, raised anew each time
            memo["id_number", id_number] = checked
        if checked.__class__ is tuple:
            raise RowError(checked[0])
        id_number = checked
    token = get("token")
    if token is not None and (token.__class__ is not str or not 0 < len(token) <= 2000):
        raise RowError(_BAD_FIELD, field="token")
    # A denied scan of something that is not a valid pass (forged, unreadable) is
    # still recorded: pass misuse is evidence. Anything else needs an identity.
    if pass_id is None and token is None and id_number is None and decision != "deny":
        raise RowError(N_("Scan a pass or type an ID number."))
    plate = get("plate")
    if plate:
        if not isinstance(plate, str):
            raise RowError(_BAD_FIELD, field="plate")
        try:
            plate = validate_plate(plate)
        except InvalidValue as exc:
            raise RowError(exc.message) from None
    direction = get("direction", "in")
    if direction not in DIRECTIONS:
        raise RowError(_BAD_FIELD, field="direction")
    method = get("method", "qr")
    if method not in DEVICE_METHODS:
        raise RowError(_BAD_FIELD, field="method")
    values = stored_values(
        ident=ident, lane=lane, occurred=occurred, direction=direction, method=method,
        pass_id=pass_id, temperature=temperature, plate=plate, companions=companions,
        decision=decision, reasons=reasons, override_reason=override_reason)
    if raw.keys().isdisjoint(_TEXT_KEYS):
        return ParsedRow(values=values, id_number=id_number, token=token)
    for key, stored_as, limit in TEXT_LIMITS:
        value = get(key)
        if value is None:
            values[stored_as] = ""
        elif isinstance(value, str) and len(value) <= limit:
            values[stored_as] = value.strip()
        else:
            raise RowError(_BAD_FIELD, field=key)
    # The stored mask is the server's own (registrations.judge); a device that sends a
    # clear name where a mask belongs is refused, not silently corrected: it leaks.
    if not is_masked_name(values["person_masked"]):
        raise RowError(N_("The holder must be a masked name (such as 张*), never a full "
                          "name."))
    return ParsedRow(values=values, id_number=id_number, token=token)


def _chunks(items: list[Any], size: int) -> Iterable[list[Any]]:
    for i in range(0, len(items), size):
        yield items[i:i + size]


def _insert_postgres(session: Session, rows: list[dict[str, Any]],
                     common: dict[str, Any]) -> set[uuid.UUID]:
    """Store the rows with binary COPY; return the ids already stored (normally none).

    Fresh rows, the usual case, are copied straight into the table under a
    savepoint. If any is stored already (a retried batch, or another upload of the
    same row committing meanwhile: the COPY waits for it), the primary key fails
    the COPY, the savepoint undoes it, and the rows go through a temporary table
    and one INSERT ... ON CONFLICT DO NOTHING, which answers with the ids that
    were there before. Either way no row costs a round trip.
    """
    raw = session.connection().connection.driver_connection
    assert raw is not None
    cols = ", ".join(COLUMNS)
    with raw.cursor() as cur:
        set_json_dumps(orjson.dumps, context=cur)  # the stdlib encoder costs µs a row
        types = _copy_types(cur)
        records = _copy_records(rows, common, types)
        cur.execute("SAVEPOINT batch_copy")
        try:
            with cur.copy(f"COPY registrations ({cols}) FROM STDIN (FORMAT BINARY)") as copy:
                copy.set_types(types)
                for record in records:
                    copy.write_row(record)
        except psycopg.errors.UniqueViolation:
            cur.execute("ROLLBACK TO SAVEPOINT batch_copy")
        else:
            cur.execute("RELEASE SAVEPOINT batch_copy")
            return set()
        cur.execute("CREATE TEMP TABLE IF NOT EXISTS registrations_in "
                    "(LIKE registrations INCLUDING DEFAULTS) ON COMMIT DELETE ROWS")
        cur.execute("TRUNCATE registrations_in")
        with cur.copy(f"COPY registrations_in ({cols}) FROM STDIN (FORMAT BINARY)") as copy:
            copy.set_types(types)
            for record in records:
                copy.write_row(record)
        cur.execute(f"WITH new AS (INSERT INTO registrations ({cols}) "
                    f"SELECT {cols} FROM registrations_in ON CONFLICT (id) DO NOTHING "
                    "RETURNING id) "
                    "SELECT i.id FROM registrations_in i WHERE NOT EXISTS "
                    "(SELECT 1 FROM new WHERE new.id = i.id)")
        return {r[0] for r in cur.fetchall()}


def _copy_records(rows: list[dict[str, Any]], common: dict[str, Any],
                  types: list[str]) -> list[tuple[Any, ...]]:
    """The COPY records of the rows, in COLUMNS order, built in one pass.

    At 40,000 rows a second, copying the batch's shared values into every row's dict
    and picking the columns back out cost more than writing them: the shared values
    are read once here and each row contributes only its own.
    """
    site_id, device, operator = common["site_id"], common["device_key"], \
        common["operator_user_id"]
    received, skew, flagged = common["received_at"], common["clock_skew_s"], \
        common["skew_flagged"]
    decided_by = common["decided_by"]
    # A json column's binary COPY format is its text (_JSON_AS_TEXT); jsonb keeps lists.
    as_text = dict(zip(COLUMNS, types, strict=True))
    reasons_text = _json_text if as_text["reasons"] == "text" else _same
    device_text = _json_text if as_text["device_reasons"] == "text" else _same
    decimal = _one_decimal  # numeric(3,1) takes no float in binary
    return [(v["id"], site_id, v["lane"], device, operator, v["occurred_at"], received, skew,
             flagged, v["future_flagged"], v["direction"], v["method"], v["person_hash"],
             v["person_masked"], v["id_last4"], v["pass_id"],
             None if v["temperature"] is None else decimal(v["temperature"]), v["plate"],
             v["companions"], v["origin"], v["destination"], v["decision"],
             reasons_text(v["reasons"]), decided_by, v["override_reason"], v["override_by"],
             v["device_decision"], device_text(v["device_reasons"]), v["disagreement"])
            for v in rows]


def _same(value: Any) -> Any:
    return value


@lru_cache(maxsize=1024)
def _one_decimal(value: float) -> Decimal:
    return Decimal(f"{value:.1f}")


# A json column's binary COPY format is its text: the few distinct reason lists are
# encoded once each and written by psycopg's C text dumper, not a Python JSON dumper
# per row and column (jsonb, whose format differs, keeps the JSON dumper).
_JSON_AS_TEXT = frozenset({"reasons", "device_reasons"})
_JSON_TEXTS: dict[tuple[str, ...], str] = {}


def _json_text(value: list[str] | None) -> str | None:
    if value is None:
        return None
    if not value:  # most rows have no reasons: their text needs no lookup
        return "[]"
    key = tuple(value)
    text = _JSON_TEXTS.get(key)
    if text is None:
        text = orjson.dumps(value).decode()
        if len(_JSON_TEXTS) < 4096:  # reason codes are few; a bound all the same
            _JSON_TEXTS[key] = text
    return text


_COPY_TYPES: list[str] = []


def _copy_types(cur: Any) -> list[str]:
    """The column types of the registrations table, for binary COPY (read once)."""
    if not _COPY_TYPES:
        cur.execute("SELECT attname, format_type(atttypid, atttypmod) FROM pg_attribute "
                    "WHERE attrelid = 'registrations'::regclass AND attnum > 0 "
                    "AND NOT attisdropped")
        types = {name: kind.split("(")[0] for name, kind in cur.fetchall()}
        _COPY_TYPES[:] = ["text" if c in _JSON_AS_TEXT and types[c] == "json" else types[c]
                          for c in COLUMNS]
    return _COPY_TYPES


# The users table, by its key alone (registrations does not import accounts).
_USERS = table("users", column("id", Uuid()))


def hold_site_and_operator(session: Session, *, site_id: uuid.UUID,
                           operator_id: uuid.UUID) -> None:
    """Lock the batch's site and operator against deletion until commit; refuse if gone.

    What the foreign keys registrations.site_id -> sites and operator_user_id -> users
    did for every row, done once for the batch (migration d9a4c2e7f150 dropped them:
    they checked the same two rows thousands of times). FOR KEY SHARE is the lock such
    a key takes. The race: a site or user deleted while the batch is stored. A delete
    after this read waits for the lock, and its trigger then sees the stored rows and
    refuses; a delete that came first makes this read find nothing, and the batch is
    refused whole, nothing stored. (SQLite has one writer at a time, and ignores the
    lock: a deletion cannot interleave with the batch's transaction there.)
    """
    found = session.execute(
        select(Site.id).join(_USERS, _USERS.c.id == operator_id).where(Site.id == site_id)
        .with_for_update(read=True, key_share=True)).first()
    if found is not None:
        return
    if session.scalar(select(Site.id).where(Site.id == site_id)) is None:
        raise NotFound("No such site.")
    raise Unauthorized("Please log in.")


def _insert_generic(session: Session, rows: list[dict[str, Any]],
                    common: dict[str, Any]) -> set[uuid.UUID]:
    """Find the ids already stored, then insert the rest in one executemany."""
    ids = [r["id"] for r in rows]
    existing: set[uuid.UUID] = set()
    for chunk in _chunks(ids, 500):
        existing.update(session.scalars(select(Registration.id).where(
            Registration.id.in_(chunk))))
    fresh = [r for r in rows if r["id"] not in existing]
    if fresh:
        session.execute(insert(Registration), [{**r, **common} for r in fresh])
    return existing


def _id_of(raw: Any) -> object:
    """The id an uploaded row gave (a dict's key, a typed row's field), as it was sent."""
    if raw.__class__ is dict:
        return raw.get("id")
    return getattr(raw, "id", None)


def _record_holders(session: Session, actor: Principal, site: Site, device_key: str,
                    fresh: list[dict[str, Any]], known: dict[str, uuid.UUID]) -> None:
    """Each known person a stored row names finds the check in their access log, as an
    online check writes it (registration.create): one entry per person per batch, in one
    statement (audit.service.record_people). `known`: the persons judge() read, by hash;
    a typed number nobody here holds gets none."""
    people = {known[h] for h in {v["person_hash"] for v in fresh} if h in known}
    audit_service.record_people(session=session, actor=actor, action="registration.create",
                                resource_type="site", resource_id=site.code, people=people,
                                detail={"via": "offline_batch", "device": device_key})


def ingest(*, session: Session, rt: Runtime, actor: Principal, batch: BatchIn,
           rows: Sequence[Any] | None = None,
           parse: Callable[..., ParsedRow] = parse_row) -> dict[str, Any]:
    """Store a device's batch; each row is stored, a duplicate, or rejected with its reason.

    The rows are `batch.registrations` (dicts, checked by parse_row) unless `rows` and
    their `parse` are given (typed_batch: typed rows, same answers). Returns the
    BatchOut document as plain data (a dict per row): building and re-validating
    thousands of pydantic objects would cost more than storing the rows.
    """
    uploaded: Sequence[Any] = batch.registrations if rows is None else rows
    site = site_service.get_for_staff(session=session, actor=actor, code=batch.site)
    now = utcnow()
    # The schema requires an offset-aware sent_at: without it a phone hours ahead had
    # its rows stored hours in the future with no flag.
    skew, flagged = clock_skew(now=now, sent_at=batch.sent_at, occurred_at=None,
                               bound_s=rt.settings.clock_skew_seconds)
    future_after = now + timedelta(seconds=rt.settings.clock_skew_seconds)
    lanes = frozenset(site.lanes)
    default_lane = site.lanes[0]
    earliest, latest = now - PAST_LIMIT, now + FUTURE_LIMIT
    results: list[Any] = []  # an answer per row; a stored row's id until it is stored
    parsed: list[ParsedRow] = []
    seen: set[int] = set()  # ids as ints: hashing a uuid.UUID runs in Python
    position: list[int] = []
    rejected = 0
    memo: dict[tuple[str, Any], Any] = {}
    for raw in uploaded:
        try:
            row = parse(raw, site_lanes=lanes, default_lane=default_lane, now=now,
                        earliest=earliest, latest=latest, memo=memo)
        except RowError as exc:
            rejected += 1
            rid = _id_of(raw)
            results.append({"id": rid[:64] if isinstance(rid, str) else "",
                            "status": "rejected",
                            "error": gettext(exc.message, **exc.params)})
            continue
        label = _id_of(raw)  # the parser checked it is a UUID string
        ident = row.values["id"].int
        if ident in seen:
            results.append({"id": label, "status": "duplicate", "error": None})
            continue
        seen.add(ident)
        position.append(len(results))
        results.append(label)  # answered once stored, below
        parsed.append(row)
    known = judge(session=session, rt=rt, site=site, rows=parsed) if parsed else {}
    # What every row of the batch shares is stored from here, not copied into each row.
    common = {"site_id": site.id, "device_key": batch.device_key,
              "operator_user_id": actor.user_id, "received_at": now, "clock_skew_s": skew,
              "skew_flagged": flagged, "decided_by": "device"}
    operator = actor.user_id
    rows = [r.values for r in parsed]
    for values in rows:
        values["override_by"] = operator if values["override_reason"] else None
        values["future_flagged"] = values["occurred_at"] > future_after
    if rows:
        hold_site_and_operator(session, site_id=site.id, operator_id=actor.user_id)
        postgres = session.get_bind().dialect.name == "postgresql"
        already = (_insert_postgres if postgres else _insert_generic)(session, rows, common)
    else:
        already = set()
    # The rows stored now. Nothing was stored before in the usual case, and then no id
    # is looked up in `already` (hashing a uuid.UUID runs in Python: µs a row).
    fresh = [v for v in rows if v["id"] not in already] if already else rows
    # The server's verdict on each stored row and the alert kind when the device's differs.
    for i, values in zip(position, rows, strict=True):
        if already and values["id"] in already:
            results[i] = {"id": results[i], "status": "duplicate", "error": None,
                          "decision": None, "reasons": [], "disagreement": None}
        else:
            results[i] = {"id": results[i], "status": "stored", "error": None,
                          "decision": values["decision"], "reasons": values["reasons"],
                          "disagreement": values["disagreement"]}
    kind = provider_for(site)
    if kind is not None:  # e.g. a compound's gate: residents out and back, visitors in and out
        # What the device let through happened, whatever the server now thinks of it.
        kind.record_offline(session, site, [{**v, "decision": v["device_decision"]}
                                            for v in fresh])
    stored = len(fresh)
    dup = len(results) - rejected - stored  # repeated in the batch, or stored before
    # The device counts its queue before sending, this batch included: every row of it is
    # now answered (stored, duplicate or refused, which the device sets aside), so what it
    # still holds is the rest. Keeping the count from before the upload showed a device
    # that had just synced as holding unsynced rows all day.
    left = max(0, batch.pending - len(uploaded))
    heartbeat(session=session, actor=actor, site_code=site.code, device_key=batch.device_key,
              pending=left, synced=True)
    audit_service.record(session=session, actor=actor, action="registration.batch",
                         resource_type="site", resource_id=site.code,
                         detail={"device": batch.device_key, "stored": stored,
                                 "duplicates": dup, "rejected": rejected,
                                 "overrides": sum(1 for r in fresh if r["override_reason"]),
                                 "clock_skew_s": skew, "skew_flagged": flagged,
                                 "future_flagged": sum(1 for r in rows
                                                       if r["future_flagged"]),
                                 "disagreements": sum(1 for r in fresh if r["disagreement"])})
    _record_holders(session, actor, site, batch.device_key, fresh, known)
    # After the audit entry: the chain lock it took serializes stay upkeep (stays.py).
    stays.after_batch(session, site=site, rows=fresh)
    return {"stored": stored, "duplicates": dup, "rejected": rejected,
            "skew_flagged": flagged, "clock_skew_s": skew, "results": results}
