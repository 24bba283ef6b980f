"""Raise many flags at once: what `service.raise_flag` does for each, in a few statements.

A declared county flags hundreds of thousands of people; one `raise_flag` per flag
locks, inserts, re-derives and writes the history a round trip at a time (minutes at
the issue's size). Here the flags come from a SELECT (the caller's: the warnings rules
select them from the new alerts) and every step is one set-based statement, nothing
read into Python but the few notices:
1. the persons are locked (the race of raise_flag; in id order, see `_lock`);
2. the flags are inserted with ON CONFLICT DO NOTHING on their dedupe key (a re-run, or
   a key cleared since, raises nothing), with UUIDv7 ids made in SQL whose order is the
   rows' `ord`, inside a range that names this batch;
3. one history row per new flag, in `ord` order per person, its before/after as if the
   flags had been raised one by one: the worst live level before the batch, then a
   running maximum (derive(): the worst live level wins); the first `before` is the
   stored status;
4. the stored status of each person whose last `after` differs, in one UPDATE;
5. one audit entry per new flag (hashed in Python: the chain is sequential), one
   notice per change of a person with an account.
tests/health/test_bulk.py checks the outcome against raise_flag one by one.
"""

from __future__ import annotations

import secrets
import uuid
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    Column,
    MetaData,
    String,
    Table,
    Uuid,
    and_,
    case,
    cast,
    func,
    literal,
    or_,
    select,
    text,
    true,
    update,
)
from sqlalchemy.orm import Session
from sqlalchemy.schema import CreateTable, DropTable
from sqlalchemy.sql import ColumnElement, Select

from passtrace.accounts.models import User
from passtrace.audit import shaped as audit_shaped
from passtrace.core.clock import utcnow
from passtrace.core.db import dialect_insert
from passtrace.health.models import StatusChange, StatusFlag
from passtrace.health.service import STATUS_NOTICES, STATUS_PAGE, check_flag_input
from passtrace.notices.service import InAppNotifier, Message
from passtrace.people.models import Person

# A batch's ids: the millisecond's 48 bits, version 7, then 60 bits of which the top 20
# are random (two batches in one millisecond all but never meet) and the rest count rows.
_SPAN = 1 << 40
FLAGS: Table = StatusFlag.__table__  # type: ignore[assignment]
HISTORY: Table = StatusChange.__table__  # type: ignore[assignment]
PEOPLE: Table = Person.__table__  # type: ignore[assignment]
SOURCE_COLUMNS = ("person_id", "level", "source", "reason", "evidence", "until", "dedupe_key")


class IdRange:
    """UUIDv7 ids for one batch: `expr(n)` is the n-th (n >= 1), all within [low, high]."""

    def __init__(self, session: Session, now: datetime) -> None:
        self.pg = session.get_bind().dialect.name == "postgresql"
        ms = int(now.astimezone(UTC).timestamp() * 1000)
        self.prefix = f"{ms:012x}70008"
        self.base = secrets.randbelow(1 << 20) * _SPAN
        self.low, self.high = self._uuid(self.base), self._uuid(self.base + _SPAN - 1)

    def _uuid(self, counter: int) -> uuid.UUID:
        return uuid.UUID(f"{self.prefix}{counter:015x}")

    def expr(self, n: Any) -> ColumnElement[Any]:
        counter = literal(self.base) + n
        if self.pg:
            hexed = func.lpad(func.to_hex(counter), 15, "0")
            return cast(literal(self.prefix) + hexed, Uuid)
        # SQLite keeps a uuid as its 32 hex digits.
        return literal(self.prefix, String) + func.printf("%015x", counter)

    def has(self, column: Any) -> ColumnElement[bool]:
        return and_(column >= self.low, column <= self.high)


def _rank(level: Any) -> ColumnElement[int]:
    return case((level == "red", 2), (level == "yellow", 1), else_=0)


def _level(rank: Any) -> ColumnElement[str]:
    return case((rank == 2, "red"), (rank == 1, "yellow"), else_="green")


def _check(session: Session, src: Any, now: datetime) -> None:
    """raise_flag's checks, once per kind of flag (the SELECT makes the rest)."""
    for level, source, reason, key_len in session.execute(
            select(src.c.level, src.c.source, src.c.reason,
                   func.max(func.length(src.c.dedupe_key)))
            .group_by(src.c.level, src.c.source, src.c.reason)):
        check_flag_input(level=level, source=source, reason=reason, evidence={},
                         until=None, starts_at=now, dedupe_key="k" * int(key_len or 0),
                         now=now)


def _lock(session: Session, src: Any) -> None:
    """Race: a flag raised for one person by two transactions at once, each deriving
    from flags the other has not committed (red overwritten by yellow), as in
    raise_flag. Every person is locked before any flag is written, in id order, so two
    batches meeting the same people wait for each other instead of deadlocking, and a
    raise_flag/clear_flag for one of them waits for the whole batch. The flags' foreign
    key alone would not do: two batches' inserts take key-share locks, which do not
    conflict (tests/health/test_race.py makes that interleaving happen)."""
    people = select(src.c.person_id)
    if session.get_bind().dialect.name == "postgresql":
        session.execute(select(PEOPLE.c.id).where(PEOPLE.c.id.in_(people))
                        .order_by(PEOPLE.c.id).with_for_update())
    else:  # SQLite: a no-op UPDATE takes the database's write lock (core.db.lock_row)
        session.execute(update(PEOPLE).where(PEOPLE.c.id.in_(people))
                        .values(id=PEOPLE.c.id))


def _insert_flags(session: Session, src: Any, ids: IdRange, now: datetime) -> int:
    at = literal(now, FLAGS.c.created_at.type)
    rows = select(ids.expr(src.c.ord), at, src.c.person_id, src.c.level, src.c.source,
                  src.c.reason, src.c.evidence, at, src.c.until, src.c.dedupe_key,
                  src.c.area_code).where(true())  # SQLite needs a WHERE before ON CONFLICT
    stmt = (dialect_insert(session)(FLAGS)
            .from_select(["id", "created_at", "person_id", "level", "source", "reason",
                          "evidence", "starts_at", "until", "dedupe_key", "area_code"], rows)
            .on_conflict_do_nothing(index_elements=["dedupe_key"]))
    done = session.execute(stmt.execution_options(preserve_rowcount=True))
    return done.rowcount or 0  # type: ignore[attr-defined]


def _insert_history(session: Session, src: Any, flags: IdRange, changes: IdRange,
                    now: datetime) -> None:
    new = select(FLAGS.c.id, FLAGS.c.person_id, FLAGS.c.level, FLAGS.c.reason).where(
        flags.has(FLAGS.c.id)).subquery("new")
    # The worst level each person's flags had before the batch (the ones live now).
    prior = (select(FLAGS.c.person_id, func.max(_rank(FLAGS.c.level)).label("rank"))
             .where(FLAGS.c.person_id.in_(select(src.c.person_id)), ~flags.has(FLAGS.c.id),
                    FLAGS.c.cleared_at.is_(None), FLAGS.c.starts_at <= now,
                    or_(FLAGS.c.until.is_(None), FLAGS.c.until > now))
             .group_by(FLAGS.c.person_id).subquery("prior"))
    running = func.max(_rank(new.c.level)).over(partition_by=new.c.person_id,
                                                order_by=new.c.id)
    before = func.coalesce(prior.c.rank, 0)
    steps = (select(new.c.id, new.c.person_id, new.c.reason,
                    PEOPLE.c.status.label("stored"),
                    _level(case((running > before, running), else_=before)).label("after"))
             .join(PEOPLE, PEOPLE.c.id == new.c.person_id)
             .outerjoin(prior, prior.c.person_id == new.c.person_id).subquery("steps"))
    previous = func.lag(steps.c.after).over(partition_by=steps.c.person_id,
                                            order_by=steps.c.id)
    order = func.row_number().over(order_by=steps.c.id)
    rows = select(changes.expr(order), steps.c.person_id,
                  literal(now, HISTORY.c.at.type), literal("raised"), steps.c.id,
                  steps.c.reason, func.coalesce(previous, steps.c.stored), steps.c.after,
                  cast(literal(None), Uuid))
    session.execute(HISTORY.insert().from_select(
        ["id", "person_id", "at", "event", "flag_id", "reason", "before", "after",
         "actor_user_id"], rows))


def _store_statuses(session: Session, changes: IdRange) -> None:
    """Each person's status after their last new flag, where it changed."""
    params = {"low": changes.low, "high": changes.high}
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text(
            "UPDATE people p SET status = x.after FROM (SELECT DISTINCT ON (person_id) "
            "person_id, after FROM status_history WHERE id BETWEEN :low AND :high "
            "ORDER BY person_id, id DESC) x WHERE p.id = x.person_id "
            "AND p.status <> x.after"), params)
        return
    last = (select(HISTORY.c.after).where(HISTORY.c.person_id == PEOPLE.c.id,
                                          changes.has(HISTORY.c.id))
            .order_by(HISTORY.c.id.desc()).limit(1).scalar_subquery())
    session.execute(update(PEOPLE).where(
        PEOPLE.c.id.in_(select(HISTORY.c.person_id).where(changes.has(HISTORY.c.id))))
        .values(status=last))


def _audit(session: Session, flags: IdRange) -> None:
    """One entry per new flag, in flag order (service.raise_flag's). Hashed in Python
    (the chain is sequential, and a recursive CTE walking it in SQL took minutes for
    150,000 entries), by shape: the entries differ only in the flag and the person
    (audit/shaped.py, a tenth of record_many's time a declared county's size)."""
    new = session.execute(
        select(FLAGS.c.id, FLAGS.c.person_id, FLAGS.c.level, FLAGS.c.source, FLAGS.c.reason)
        .where(flags.has(FLAGS.c.id)).order_by(FLAGS.c.id)).all()
    kinds: dict[tuple[str, str, str], int] = {}
    entries = [(kinds.setdefault((level, source, reason), len(kinds)), fid, pid)
               for fid, pid, level, source, reason in new]
    shapes = [audit_shaped.Shape("health.flag.raise", "status_flag",
                                 {"level": level, "source": source, "reason": reason})
              for level, source, reason in kinds]
    audit_shaped.record_shaped(session=session, actor=None, shapes=shapes, entries=entries)


def _tell(session: Session, changes: IdRange) -> None:
    """One notice per status change of a person with an account (as service._tell)."""
    told = session.execute(
        select(HISTORY.c.id, HISTORY.c.after, User.id)
        .join(User, User.person_id == HISTORY.c.person_id)
        .where(changes.has(HISTORY.c.id), HISTORY.c.before != HISTORY.c.after)
        .order_by(HISTORY.c.id)).all()
    InAppNotifier(session).send_many([
        Message(user_id=user_id, kind="health.status", text=STATUS_NOTICES[after],
                dedupe_key=f"health:{change_id}", link=STATUS_PAGE)
        for change_id, after, user_id in told])


def raise_selected(*, session: Session, rows: Select[Any]) -> int:
    """Raise the flags `rows` selects (columns person_id, level, source, reason, evidence,
    until, dedupe_key, optionally area_code, and ord: a distinct positive integer giving
    the order); how many were new. As the system (rules run with no actor).

    The same rows and outcome as raise_flag for each row in `ord` order. The SELECT must
    name known persons and give flags that have not ended (until NULL or in the future).
    """
    now = utcnow()
    if session.get_bind().dialect.name == "postgresql":
        # For this transaction: JIT compiling these few large one-off statements cost more
        # than it saved (a declared county's flags, benchmarks/warnings.py).
        session.execute(text("SET LOCAL jit = off"))
        # And their sorts (persons to lock, history in flag order per person) spilled to
        # disk at the default work_mem for a declared county's half (4-8 MB each).
        session.execute(text("SET LOCAL work_mem = '64MB'"))
    # The caller's SELECT is read by three statements (checks, locks, inserts): kept in
    # a temporary table, it is evaluated once (a declared county's: alerts joined to
    # 200,000 people by ID hash, with a window).
    kept = Table(f"bulk_flags_{secrets.token_hex(6)}", MetaData(),
                 *[Column(name, FLAGS.c[name].type) for name in SOURCE_COLUMNS],
                 Column("area_code", FLAGS.c.area_code.type),
                 Column("ord", BigInteger), prefixes=["TEMPORARY"])
    session.execute(CreateTable(kept))
    sub = rows.subquery("src")
    given = [c for c in (*SOURCE_COLUMNS, "area_code", "ord") if c in sub.c]
    session.execute(kept.insert().from_select(given, select(*[sub.c[c] for c in given])))
    if session.get_bind().dialect.name == "postgresql":
        # Nothing analyzes a temporary table by itself: without its size the planner took
        # 200,000 flags for a few hundred and probed people and flags by index once per
        # person (nested loops, most of a declared county's time).
        session.execute(text(f"ANALYZE {kept.name}"))
    made = _raise_kept(session, kept, now)
    # (On an error the rollback takes the table away with the rest.)
    session.execute(DropTable(kept))
    return made


def _raise_kept(session: Session, src: Table, now: datetime) -> int:
    _check(session, src, now)
    _lock(session, src)
    flags = IdRange(session, now)
    made = _insert_flags(session, src, flags, now)
    if not made:
        return 0
    # As _settle: derive at the time the locks were won (the flags start at `now`).
    settled = max(now, utcnow())
    changes = IdRange(session, settled)
    _insert_history(session, src, flags, changes, settled)
    _store_statuses(session, changes)
    _audit(session, flags)
    _tell(session, changes)
    session.flush()
    return made

