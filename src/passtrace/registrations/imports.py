"""Registrations from other systems (paper registers, other mini-programs): a bulk CSV load.

Imported rows are historical facts, not checks: they are stored with method "import",
decision "allow" and decided_by "import", and no rule runs on them again. The file is
read as a stream and committed in chunks, so a file of millions of rows never sits in
memory, and a re-run after a crash (or of the same file) stores nothing twice: the
import is idempotent by `external_id` (unique through registration_external_ids), and
the row id is derived from it.

Speed matters (a district's history is tens of millions of rows). On PostgreSQL the
work is set-based: Python only reads, checks and hashes the rows (by hand, not by
pydantic); each chunk goes through binary COPY into a staging table and two plain
INSERT ... SELECTs (the keys, then the rows, which also fill the server's masked name
from `people`, straight into their day partitions, with the dashboard's hour counts
added from the staging table) under a savepoint; only a chunk holding an external id
stored before takes the slower INSERT ... ON CONFLICT DO NOTHING RETURNING through the
partitioned parent, which tells which rows were new. The stays of the new rows are
kept in the same transaction (stays.pg_after_rows). A chunk is stored in a second
thread while the next one is checked. SQLite takes an executemany per chunk and rebuilds the stays
at the end.

A bad row never sinks the others: it is reported with its row number (the sheet's, the
header being row 1), the column and a translated message, and the valid rows are
stored. A file that cannot be read at all (not UTF-8, no header, a required column
missing) changes nothing.
"""

from __future__ import annotations

import codecs
import csv
import hashlib
import io
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from operator import itemgetter
from typing import IO, Any, cast

import psycopg
from sqlalchemy import Table, insert, select
from sqlalchemy.orm import Session

from passtrace.audit import pg_append
from passtrace.audit import service as audit_service
from passtrace.core.clock import utcnow
from passtrace.core.errors import ValidationFailed
from passtrace.core.i18n import N_
from passtrace.core.imports import Problem
from passtrace.core.pii import PiiVault
from passtrace.core.security import Principal
from passtrace.core.validators import InvalidValue, validate_id_number, validate_plate
from passtrace.people.models import Person
from passtrace.registrations import partitions, stays
from passtrace.registrations.models import DIRECTIONS, Registration, RegistrationExternalId
from passtrace.rules.decide import round_temperature
from passtrace.sites.models import Site

COLUMNS = ("external_id", "site_code", "id_number", "occurred_at", "direction",
           "temperature", "plate")
REQUIRED = COLUMNS[:5]
# Rows per transaction: big enough for COPY to pay off, small enough that a crash
# loses little (the re-run skips what was committed).
CHUNK_ROWS = 10_000
# The report lists this many problems; the count of refused rows is always exact.
MAX_PROBLEMS = 1_000
# An imported occurrence may not lie ahead of the server clock by more than this.
FUTURE_LIMIT = timedelta(days=1)
METHOD = "import"
DEVICE_KEY = "import"
# Deterministic ids: the same external id always makes the same row id.
_ID_SALT = b"passtrace-registration-import:"

UNKNOWN_SITE = N_("Unknown site %(code)s.")
OUTSIDE = N_("This area is outside your jurisdiction.")
BAD_EXTERNAL_ID = N_("The external id is missing or longer than 64 characters.")
BAD_TIME = N_("The time must be ISO 8601 with its UTC offset, such as "
              "2026-02-03T08:30:00+08:00.")
FUTURE_TIME = N_("This time lies in the future.")
BAD_DIRECTION = N_("The direction must be in, out or through.")
BAD_TEMPERATURE = N_("The temperature must be between 30.0 and 45.0 °C.")
EMPTY_ID = N_("The ID number is empty.")


@dataclass
class RegistrationImport:
    """What an import did. `problems` lists the first MAX_PROBLEMS; `refused` counts all."""

    rows: int = 0
    imported: int = 0
    unchanged: int = 0
    refused: int = 0
    stays: int = 0
    problems: list[Problem] = field(default_factory=list)


@dataclass(frozen=True)
class _SiteRef:
    id: uuid.UUID
    lane: str
    allowed: bool


def import_id(external_id: str, occurred_at: datetime) -> uuid.UUID:
    """The row id of an imported registration: a UUIDv7 that is a function of its facts.

    Registration ids are UUIDv7 everywhere (time-ordered; devices make them): the time
    part is the occurrence, the random part a hash of the external id, so a re-run
    makes the very same id and the stay built from it keeps its id too.
    """
    ms = int(occurred_at.timestamp() * 1000) & ((1 << 48) - 1)
    digest = _blake2b(_ID_SALT + external_id.encode(), digest_size=10).digest()
    # 48 bits of time, version 7, 12 bits of hash, variant 10, 62 bits of hash: the
    # hash's 80 bits with 6 of them replaced (one int operation, no byte juggling).
    # Made as uuid.UUID(int=...) makes it, without the checks of its __init__ (the
    # value is a 128-bit int by construction): 2.3 us a row against 6.5 measured.
    ident = _new_object(uuid.UUID)
    _set_slot(ident, "int", ms << 80 | int.from_bytes(digest, "big") & _ID_KEEP | _ID_SET)
    _set_slot(ident, "is_safe", _UNKNOWN_SAFETY)
    return ident


_blake2b = hashlib.blake2b
_new_object = object.__new__
_set_slot = object.__setattr__  # as uuid.UUID.__init__ does (the class is immutable)
_UNKNOWN_SAFETY = uuid.SafeUUID.unknown
_ID_KEEP = (0xF << 72) | (0xFF << 64) | (0x3F << 56) | ((1 << 56) - 1)
_ID_SET = (0x7 << 76) | (0b10 << 62)


def check_file(stream: IO[bytes]) -> list[str]:
    """Refuse a file that cannot be read before anything is stored; return its header.

    The whole file is decoded once (cheap next to storing it): a byte that is not UTF-8
    on row 900,000 must not leave 899,999 rows stored and the rest refused.
    """
    decoder = codecs.getincrementaldecoder("utf-8")()
    stream.seek(0)
    try:
        while block := stream.read(1 << 20):
            decoder.decode(block)
        decoder.decode(b"", final=True)
    except UnicodeDecodeError:
        raise ValidationFailed("The file is not UTF-8 text: save it as CSV UTF-8.") from None
    stream.seek(0)
    text = io.TextIOWrapper(stream, encoding="utf-8-sig", newline="")
    try:
        header = next(csv.reader(text), None)
    except csv.Error:
        header = None
    finally:
        text.detach()
    stream.seek(0)
    if not header or not any(h.strip() for h in header):
        raise ValidationFailed("The file is empty.")
    names = [h.strip().lower() for h in header]
    missing = [c for c in REQUIRED if c not in names]
    if missing:
        raise ValidationFailed(
            "The first row lacks the column(s) %(missing)s. It must name the columns "
            "%(required)s (%(optional)s are optional).", missing=", ".join(missing),
            required=", ".join(REQUIRED), optional=", ".join(COLUMNS[len(REQUIRED):]))
    return names


class _Checker:
    """Turns CSV rows into registration values; remembers sites and ID numbers it saw."""

    def __init__(self, session: Session, vault: PiiVault, actor: Principal | None,
                 now: datetime) -> None:
        self.session, self.vault, self.actor = session, vault, actor
        self.latest = now + FUTURE_LIMIT
        self.sites: dict[str, _SiteRef | None] = {}
        # Raw ID number text -> (person_hash, last4), or the msgid of why it is refused.
        self.people: dict[str, tuple[str, str] | str] = {}
        # Called before the session is used here: the previous chunk may be being
        # stored through it in another thread (see import_registrations).
        self.quiesce: Callable[[], None] = lambda: None

    def site(self, code: str) -> _SiteRef | None:
        """A site by its code (looked up once per distinct code; None if unknown)."""
        if code not in self.sites:
            self.quiesce()
            found = self.session.execute(select(Site.id, Site.lanes, Site.area_code).where(
                Site.code == code)).first() if code else None
            self.sites[code] = None if found is None else _SiteRef(
                found.id, (found.lanes or ["1"])[0][:16],
                self.actor is None or self.actor.covers_area("site.manage", found.area_code))
        return self.sites[code]

    def person(self, raw: str) -> tuple[str, str] | str:
        known = self.people.get(raw)
        if known is None:
            try:
                number = validate_id_number(raw) if raw.strip() else ""
                if not number:
                    raise InvalidValue(EMPTY_ID)
            except InvalidValue as exc:
                known = exc.message
            else:
                known = (self.vault.lookup_hash(number), number[-4:])
            if len(self.people) < 1_000_000:
                self.people[raw] = known
        return known

    def check(self, number: int, cells: list[str], pick: Callable[[list[str]], Any],
              width: int, problems: list[Problem]) -> tuple[Any, ...] | None:
        """One row's values, or None with its problems appended (every column is checked).

        `pick` takes the seven columns out of the row in COLUMNS order (an absent
        optional column reads the empty cell past the row's end). This runs for every
        row (tens of thousands a second): the common case takes no helper call.
        """
        cells.extend([""] * (width - len(cells)))
        external_id, code, raw_id, when, direction, temp_text, plate_text = pick(cells)
        before = len(problems)
        external_id = external_id.strip()
        if not external_id or len(external_id) > 64 or not external_id.isprintable():
            problems.append(Problem(number, "external_id", BAD_EXTERNAL_ID))
        site = self.sites[code] if code in self.sites else self.site(code.strip())
        if code not in self.sites:
            self.sites[code] = site
        if site is None:
            problems.append(Problem(number, "site_code", UNKNOWN_SITE, {"code": code.strip()}))
        elif not site.allowed:
            problems.append(Problem(number, "site_code", OUTSIDE))
        person = self.people.get(raw_id) or self.person(raw_id)
        if person.__class__ is str:
            problems.append(Problem(number, "id_number", person))
        try:
            occurred: datetime | None = datetime.fromisoformat(when.strip())
        except ValueError:
            occurred = None
        if occurred is None or occurred.tzinfo is None or occurred.year < 1971:
            problems.append(Problem(number, "occurred_at", BAD_TIME))
        elif occurred > self.latest:
            problems.append(Problem(number, "occurred_at", FUTURE_TIME))
        if direction not in DIRECTIONS:
            direction = direction.strip().lower()
            if direction not in DIRECTIONS:
                problems.append(Problem(number, "direction", BAD_DIRECTION))
        temperature: float | None = None
        if temp_text:
            try:
                temperature = round_temperature(float(temp_text))
            except ValueError:
                temperature = -1.0
            if not 30.0 <= temperature <= 45.0:
                problems.append(Problem(number, "temperature", BAD_TEMPERATURE))
        plate = None
        if plate_text.strip():
            try:
                plate = validate_plate(plate_text)
            except InvalidValue as exc:
                problems.append(Problem(number, "plate", exc.message))
        if len(problems) > before:
            return None
        assert site is not None and occurred is not None and not isinstance(person, str)
        occurred = occurred.astimezone(UTC)
        # In _COPY_COLUMNS order: the PostgreSQL path COPYs the tuple as it is.
        return (import_id(external_id, occurred), site.id, site.lane, occurred, direction,
                person[0], person[1], temperature, plate, external_id)


def _rows(stream: IO[bytes], names: list[str]) -> Iterator[tuple[int, list[str]]]:
    """The data rows with their sheet row numbers (the header is row 1); blank rows skipped."""
    text = io.TextIOWrapper(stream, encoding="utf-8-sig", newline="")
    reader = csv.reader(text)
    next(reader, None)
    number = 1
    try:
        for number, cells in enumerate(reader, start=2):
            if cells and any(cells):
                yield number, cells
    except csv.Error:
        raise ValidationFailed("Row %(row)s cannot be read as CSV.", row=number + 1) from None
    finally:
        text.detach()


def import_registrations(*, session: Session, vault: PiiVault, actor: Principal | None,
                         stream: IO[bytes], commit: Callable[[], None],
                         progress: Callable[[int], None] | None = None,
                         chunk_rows: int = CHUNK_ROWS) -> RegistrationImport:
    """Load a CSV of registrations from another system; see the module docstring.

    `stream` is a seekable binary file; `commit` ends each chunk's transaction (the CLI
    and the API commit their session); `progress` gets the bytes read so far. Raises
    ValidationFailed, before storing anything, for a file that cannot be read.
    """
    names = check_file(stream)
    # An absent optional column reads the empty cell check() adds past the row's end.
    width = len(names) + 1
    pick = itemgetter(*(names.index(c) if c in names else len(names) for c in COLUMNS))
    now = utcnow()
    checker = _Checker(session, vault, actor, now)
    result = RegistrationImport()
    postgres = session.get_bind().dialect.name == "postgresql"
    # SQLite only: whose stays to rebuild at the end, and from when.
    touched: set[str] = set()
    since: datetime | None = None
    problems: list[Problem] = []
    chunk: list[tuple[Any, ...]] = []
    # PostgreSQL: a chunk is stored in a second thread while this one checks the next,
    # so the server's work and Python's overlap. Only one thread uses the session at a
    # time: the next chunk (and the site lookup in check) waits for the previous one.
    pool = ThreadPoolExecutor(1, thread_name_prefix="import") if postgres else None
    pending: list[Future[None]] = []
    routes = _Routes()

    def store(rows: list[tuple[Any, ...]], at: int) -> None:
        # Each known person whose rows this chunk stored sees the import in their own
        # access log: one entry per person per chunk, in one INSERT, committed with the
        # rows (a person spread over chunks gets one per chunk).
        if postgres:
            stored, made = _store_postgres(session, rows, now, _entry(actor), routes)
            result.stays += made
        else:
            stored, subjects = _insert_sqlite(session, rows, now)
            audit_service.record_reads(session=session, actor=actor, action=_ACTION,
                                       resource_type="registration",
                                       people=[("", pid) for pid in subjects])
        result.imported += stored
        result.unchanged += len(rows) - stored
        commit()
        if progress is not None:
            progress(at)

    def settle() -> None:
        while pending:
            pending.pop().result()

    def flush() -> None:
        if not chunk:
            return
        rows = chunk.copy()
        chunk.clear()
        settle()
        if pool is None:
            store(rows, stream.tell())
        else:
            pending.append(pool.submit(store, rows, stream.tell()))

    checker.quiesce = settle
    check = checker.check
    try:
        for number, cells in _rows(stream, names):
            result.rows += 1
            values = check(number, cells, pick, width, problems)
            if values is None:
                result.refused += 1
                room = MAX_PROBLEMS - len(result.problems)
                result.problems += problems[:max(room, 0)]
                problems.clear()
                continue
            if not postgres:
                touched.add(values[_PERSON])
                if since is None or values[_AT] < since:
                    since = values[_AT]
            chunk.append(values)
            if len(chunk) >= chunk_rows:
                flush()
        flush()
        settle()
    finally:
        if pool is not None:
            # A failure here (a row that is not CSV) lets the chunk in flight finish.
            pool.shutdown(wait=True)
    if touched:
        # Every valid row's person, not only the newly stored ones: a re-run after a
        # crash between the last chunk and this step still builds their stays.
        result.stays = rebuild_stays(session, touched, since)
    audit_service.record(session=session, actor=actor, action=_ACTION,
                         resource_type="registration",
                         detail={"rows": result.rows, "imported": result.imported,
                                 "unchanged": result.unchanged, "refused": result.refused})
    commit()
    return result


def rebuild_stays(session: Session, person_hashes: set[str], since: datetime | None) -> int:
    """Build the stays of the imported rows' persons from `since` (registrations.stays)."""
    return stays.rebuild(session, person_hashes=person_hashes, since=since)


# --- storing a chunk ------------------------------------------------------------------------

# The order of the tuples check() makes; everything else is the same for every row.
_COPY_COLUMNS = ("id", "site_id", "lane", "occurred_at", "direction", "person_hash",
                 "id_last4", "temperature", "plate", "external_id")
_AT, _PERSON = _COPY_COLUMNS.index("occurred_at"), _COPY_COLUMNS.index("person_hash")
_AT_OF = itemgetter(_AT)
_FIXED: dict[str, Any] = {
    "device_key": DEVICE_KEY, "method": METHOD, "decision": "allow", "reasons": [],
    "decided_by": METHOD, "clock_skew_s": None, "skew_flagged": False,
    "future_flagged": False, "companions": 0, "origin": "", "destination": ""}

# The staging table COPY fills (the temperature as a float: binary COPY takes no float
# for numeric(3,1); the INSERT casts it), and the table of what the INSERT stored (for
# the stays). Both are per connection and emptied at commit.
_STAGE = "registrations_import_stage"
_NEW = "registrations_import_new"
_STAGE_TYPES = ("uuid", "uuid", "text", "timestamptz", "text", "text", "text", "float8",
                "text", "text")
_PG_TABLES = (
    f"CREATE TEMP TABLE IF NOT EXISTS {_STAGE} ("
    + ", ".join(f"{c} {t}" for c, t in zip(_COPY_COLUMNS, _STAGE_TYPES, strict=True))
    + f") ON COMMIT DELETE ROWS; CREATE TEMP TABLE IF NOT EXISTS {_NEW} (person_hash text, "
    "site_id uuid, occurred_at timestamptz, direction text, decision text) "
    f"ON COMMIT DELETE ROWS; TRUNCATE {_STAGE}, {_NEW}")
_PG_COPY = f"COPY {_STAGE} ({', '.join(_COPY_COLUMNS)}) FROM STDIN (FORMAT BINARY)"
# The masked name is the server's own (people.name_masked, "" for a person this server
# does not know), joined in. In id order (time order: UUIDv7), so consecutive inserts
# land on neighbouring pages of the id and time indexes: 12-18% less server CPU per row
# measured than in file order.
_PG_COLUMNS = (
    "INSERT INTO registrations (id, site_id, lane, device_key, occurred_at, "
    "received_at, clock_skew_s, skew_flagged, future_flagged, direction, method, "
    "person_hash, person_masked, id_last4, temperature, plate, companions, origin, "
    "destination, decision, reasons, decided_by, external_id) "
    "SELECT i.id, i.site_id, i.lane, %(device)s, i.occurred_at, %(now)s, NULL, false, "
    "false, i.direction, %(method)s, i.person_hash, COALESCE(p.name_masked, ''), "
    "i.id_last4, i.temperature::numeric(3, 1), i.plate, 0, '', '', 'allow', '[]'::json, "
    "%(method)s, i.external_id FROM {rows} "
    "LEFT JOIN people p ON p.id_hash = i.person_hash{where} ORDER BY i.id")
# The usual chunk: none of its external ids is stored yet. Plain INSERTs, no ON
# CONFLICT, under a savepoint: the speculative insertion ON CONFLICT makes (a probe of
# the unique index, then the insert) and the CTE that joined the keys' RETURNING to the
# rows cost 8-10 us of server CPU a row of the ~30 the two inserts took (measured on
# 10,000 rows). The keys go in in their own order (one leaf after the other of their
# primary key; in both paths, so two imports of overlapping files wait for each other's
# keys in one order and cannot deadlock), the rows in id order. A key stored before (a
# re-run), by a concurrent import (whose commit the insert waits for), or twice in the
# chunk raises unique_violation: the savepoint is rolled back and the chunk takes
# _PG_INSERT.
_PG_KEYS_FAST = (
    "INSERT INTO registration_external_ids (external_id, registration_id, occurred_at) "
    f"SELECT external_id, id, occurred_at FROM {_STAGE} ORDER BY external_id")
_PG_INSERT_FAST = _PG_COLUMNS.format(rows=f"{_STAGE} i", where="")
# Some key is stored already: a repeated external id inserts nothing: its key in
# registration_external_ids (registrations is partitioned by id on PostgreSQL, so it
# cannot hold that unique index) conflicts first, and only rows whose key was new go
# on; RETURNING tells what was new, kept in _NEW for the stays and the access logs.
_PG_INSERT = (
    "WITH keyed AS (INSERT INTO registration_external_ids (external_id, registration_id, "
    f"occurred_at) SELECT external_id, id, occurred_at FROM {_STAGE} ORDER BY external_id "
    "ON CONFLICT DO NOTHING RETURNING registration_id), "
    "new AS (" + _PG_COLUMNS.format(
        rows=f"{_STAGE} i JOIN keyed k ON k.registration_id = i.id", where="")
    + " ON CONFLICT DO NOTHING RETURNING person_hash, site_id, occurred_at, direction, "
    f"decision), kept AS (INSERT INTO {_NEW} SELECT * FROM new) SELECT count(*) FROM new")
# The usual chunk, straight into the day partitions (and the default one) rather than
# through the partitioned parent: the parent's statement trigger (registration_hours_
# insert, migration d4a5b6c7e8f9) then does not fire, so _PG_HOURS adds the same counts
# from the staging table itself. Through the parent, every row was routed to its
# partition and copied into the trigger's transition table, and the trigger grouped
# that copy: ~4 us of server CPU a row more than this (measured on the import
# benchmark, the A/B in docs/tracing.md). A row whose partition was made (or dropped)
# since the partitions were listed fails the partition's constraint (or names a table
# that is gone): the chunk then takes the parent (_PG_INSERT_FAST), as it does when
# the parent has an insert trigger other than the hour counts (one this path would skip).
_PG_INSERT_INTO = "INSERT INTO {table} (" + _PG_COLUMNS.split(" (", 1)[1]
_HOURS_TRIGGER = "registration_hours_insert"
_PG_INSERT_TRIGGERS = (
    "SELECT coalesce(array_agg(tgname::text ORDER BY tgname), '{}') FROM pg_trigger "
    "WHERE tgrelid = 'registrations'::regclass AND NOT tgisinternal AND tgtype & 4 <> 0")
# The trigger's counts of the staged rows: per UTC hour and site, decision "allow" (no
# reasons), and how many were at or above the site's fever threshold (the temperature
# as stored: numeric(3, 1)). Only the hours the dashboard still keeps: its fold
# (dashboard.rollup.fold) drops every hour older than HOURS_KEPT, deltas and all, and
# its figures read the last 24 hours; an import of older registers added ~7,000
# delta rows a 10,000-row chunk for the next fold to delete (~4 us of server CPU a row
# on the import benchmark, whose rows are months old).
HOURS_KEPT = timedelta(days=2)  # dashboard.rollup.KEEP (a test checks they agree)
# As the trigger does (migration f6a8c0e2b4d7), a row stamped after the statement's
# clock goes to registration_ahead by its exact time, not to its hour: the dashboard
# counts an hour's rows as soon as they are visible, and a row counted there before its
# time would be counted too early (an imported register from a device whose clock ran
# fast).
_PG_HOURS = (
    "WITH x AS MATERIALIZED (SELECT i.occurred_at AS at, i.site_id, "
    "i.temperature::numeric(3, 1) >= s.fever_threshold AS fever "
    f"FROM {_STAGE} i JOIN sites s ON s.id = i.site_id "
    "WHERE date_trunc('hour', i.occurred_at, 'UTC') >= %(kept)s), "
    "ahead AS (INSERT INTO registration_ahead (at, site_id, decision, reasons, n, fevers) "
    "SELECT at, site_id, 'allow', '', count(*), count(*) FILTER (WHERE fever) FROM x "
    "WHERE at > statement_timestamp() GROUP BY at, site_id) "
    "INSERT INTO registration_hour_deltas (hour, site_id, decision, reasons, n, fevers) "
    "SELECT date_trunc('hour', at, 'UTC') AS hour, site_id, 'allow', '', "
    "count(*), count(*) FILTER (WHERE fever) FROM x "
    "WHERE at <= statement_timestamp() GROUP BY 1, 2")
# What the stays and the access logs read: every staged row when the fast path stored
# them all, else what the INSERT returned.
_STAGED_MOVES = (f"(SELECT person_hash, site_id, occurred_at, direction, "
                 f"'allow'::text AS decision FROM {_STAGE})")


# The known persons whose rows the INSERT stored (for their access logs).
_PG_SUBJECTS = ("SELECT DISTINCT p.id FROM {rows} n JOIN people p "
                "ON p.id_hash = n.person_hash")
_ACTION = "registration.import"


def _entry(actor: Principal | None) -> dict[str, Any]:
    """A per-person entry's fields (audit.service.record's), but for the person."""
    return {"at": utcnow(), "actor_user_id": actor.user_id if actor else None,
            "actor_name": actor.username if actor else "system", "action": _ACTION,
            "resource_type": "registration", "resource_id": "", "subject_person_id": None,
            "reason": None, "detail": {}, "ip": actor.ip if actor else None}


class _Routes:
    """Where a chunk's rows go on PostgreSQL: the day partitions of registrations, known
    once per import (and again after a chunk found them changed), or the parent."""

    def __init__(self) -> None:
        self.days: frozenset[date] | None = None
        self.direct = False

    def forget(self) -> None:
        self.days = None
        self.direct = False

    def targets(self, session: Session, cur: Any, first: date,
                last: date) -> list[tuple[str, str]] | None:
        """(table, condition) for each partition the chunk's rows may land in, or None
        to insert through the parent (not partitioned, or an insert trigger besides the
        hour counts that a direct insert would skip)."""
        if self.days is None:
            cur.execute(_PG_INSERT_TRIGGERS)
            found = cur.fetchone()
            self.direct = bool(found) and list(found[0]) == [_HOURS_TRIGGER]
            listed = partitions.partitions(session)
            self.direct = self.direct and any(p.name == partitions.DEFAULT for p in listed)
            self.days = frozenset(p.day for p in listed if p.day is not None)
        if not self.direct:
            return None
        days = sorted(d for d in self.days if first <= d <= last)
        # Bounds made here from dates, not from the catalog's text: nothing to quote.
        ranges = [f"i.id >= '{partitions.day_bound(d)}' AND i.id < "
                  f"'{partitions.day_bound(d + timedelta(days=1))}'" for d in days]
        out = [(partitions.partition_name(d), f" WHERE {r}") for d, r in zip(
            days, ranges, strict=True)]
        rest = " AND ".join(f"NOT ({r})" for r in ranges)
        return [*out, (partitions.DEFAULT, f" WHERE {rest}" if rest else "")]


def _store_postgres(session: Session, rows: list[tuple[Any, ...]],
                    now: datetime, entry: dict[str, Any],
                    routes: _Routes | None = None) -> tuple[int, int]:
    """COPY a chunk into the staging table, insert what is new, keep its stays, and
    append one chained audit entry per known person stored for (`entry`'s fields).

    Returns (rows stored, stays written). Python only checked the rows; the rest is
    a handful of statements whatever the chunk's size (and the stays' four).
    """
    raw = session.connection().connection.driver_connection
    assert raw is not None
    routes = routes or _Routes()
    params = {"device": DEVICE_KEY, "now": now, "method": METHOD}
    with raw.cursor() as cur:
        cur.execute(_PG_TABLES)
        with cur.copy(_PG_COPY) as copy:
            copy.set_types(_STAGE_TYPES)
            for row in rows:
                copy.write_row(row)
        # The partitions to insert into, from the earliest and latest occurrence (an
        # import's id is made from its occurrence: the same UTC day).
        first, latest = min(map(_AT_OF, rows)), max(map(_AT_OF, rows))
        targets = routes.targets(session, cur, first.date(), latest.date())
        kept = now - HOURS_KEPT
        cur.execute("SAVEPOINT import_chunk")
        try:
            cur.execute(_PG_KEYS_FAST)
            if targets is None:
                cur.execute(_PG_INSERT_FAST, params)
            else:
                for table, where in targets:
                    cur.execute(_PG_INSERT_INTO.format(table=table, rows=f"{_STAGE} i",
                                                       where=where), params)
                if latest >= kept:  # else every row's hour is older (older registers)
                    cur.execute(_PG_HOURS, {"kept": kept})
        except (psycopg.errors.UniqueViolation, psycopg.errors.CheckViolation,
                psycopg.errors.UndefinedTable, psycopg.errors.InsufficientPrivilege) as exc:
            cur.execute("ROLLBACK TO SAVEPOINT import_chunk")
            if isinstance(exc, psycopg.errors.InsufficientPrivilege):
                if targets is None:
                    raise
                # The application's role may write registrations but not a partition
                # itself (a partition made by a role whose default privileges do not
                # reach it, audit/db_roles.py): the parent checks only its own.
                routes.direct = False
            elif not isinstance(exc, psycopg.errors.UniqueViolation):
                # The partitions changed since they were listed: list them again for
                # the next chunk; this one takes the parent.
                routes.forget()
            cur.execute(_PG_INSERT, params)
            found = cur.fetchone()
            stored, new_rows = (int(found[0]) if found else 0), _NEW
        else:
            cur.execute("RELEASE SAVEPOINT import_chunk")
            stored, new_rows = len(rows), _STAGED_MOVES
        if stored:
            # The chain's lock in a statement before the one that reads the head
            # (audit/pg_append.py): two importers (or a gate) would fork the chain.
            cur.execute(pg_append.LOCK_CHAIN, pg_append.LOCK_CHAIN_PARAMS)
            cur.execute(*pg_append.per_subject_sql(_PG_SUBJECTS.format(rows=new_rows),
                                                   entry))
    return stored, stays.pg_after_rows(session, new_rows=new_rows) if stored else 0


def _insert_sqlite(session: Session, chunk: list[tuple[Any, ...]],
                   now: datetime) -> tuple[int, list[uuid.UUID]]:
    """Leave out what is stored (or repeated in the chunk), then one executemany.

    Returns (rows stored, the known persons stored for)."""
    fresh: dict[str, dict[str, Any]] = {}
    for values in chunk:
        row = dict(zip(_COPY_COLUMNS, values, strict=True))
        fresh.setdefault(row["external_id"], row)
    keys = list(fresh)
    hashes = list({r["person_hash"] for r in fresh.values()})
    masks: dict[str, str] = {}
    ids: dict[str, uuid.UUID] = {}
    for i in range(0, max(len(keys), len(hashes)), 500):
        for stored in session.scalars(select(RegistrationExternalId.external_id).where(
                RegistrationExternalId.external_id.in_(keys[i:i + 500]))):
            fresh.pop(stored, None)
        for digest, name, person_id in session.execute(
                select(Person.id_hash, Person.name_masked, Person.id).where(
                    Person.id_hash.in_(hashes[i:i + 500]))):
            masks[digest], ids[digest] = name, person_id
    if fresh:
        # OR IGNORE: another import of the same rows may commit in between (the keys'
        # primary key and the registrations' then leave them out alike).
        session.execute(insert(cast(Table, RegistrationExternalId.__table__))
                        .prefix_with("OR IGNORE"), [
            {"external_id": r["external_id"], "registration_id": r["id"],
             "occurred_at": r["occurred_at"]} for r in fresh.values()])
        session.execute(insert(cast(Table, Registration.__table__)).prefix_with("OR IGNORE"), [
            {**_FIXED, **r, "received_at": now, "person_masked": masks.get(r["person_hash"], "")}
            for r in fresh.values()])
    subjects = {ids[r["person_hash"]] for r in fresh.values() if r["person_hash"] in ids}
    return len(fresh), sorted(subjects)
