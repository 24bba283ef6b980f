"""The loader of benchmarks/tracing.py: millions of people, registrations, stays and
reports, generated inside PostgreSQL from a fixed seed.

Row-by-row generation in Python (even through binary COPY) spent 20-30 µs of Python per
registration: 10M took most of an hour. Here Python makes only what needs the
application (1M ID numbers and their keyed hashes, in a pool of processes, binary-COPYed
into a scratch table) and the few thousand sites and enterprises; everything else is
`INSERT ... SELECT` over generate_series, a few statements per table, run two at a time
on two connections, into tables without indexes; the stays are built from the
registrations by one windowed statement (per half of the people), then the indexes and
constraints are made (two at a time) and the tables vacuumed and analyzed.

Randomness is `hashint8extended(i, seed)`: a function of the row number and the seed, so
the data do not depend on the order or the parallelism the server chooses. The shapes
are those the contacts and verify parts need (see `load`'s docstring).
"""

from __future__ import annotations

import argparse
import math
import multiprocessing
import time
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, date, datetime, timedelta
from typing import Any

import psycopg
from sqlalchemy.orm import Session

from passtrace.accounts import service as account_service
from passtrace.areas import service as area_service
from passtrace.core import migrate
from passtrace.core.ids import uuid7
from passtrace.core.runtime import Runtime
from passtrace.demo.accounts import demo_id_number
from passtrace.enterprises.models import Department, Enterprise
from passtrace.registrations import partitions, stays
from passtrace.sites.models import Site

BIG_TABLES = ("people", "employees", "registrations", "stays", "daily_reports",
              "report_stops")
KINDS = (("road_checkpoint", 0.4), ("community_gate", 0.3), ("enterprise_gate", 0.2),
         ("venue", 0.1))
# Hours of the day an "other visit" falls in: daytime (7-21 h) six times as likely.
HOURS = [h for h in range(24) for _ in range(6 if 7 <= h < 21 else 1)]
WORKERS = 2  # connections generating at once (the machine has 2 cores)
SETTINGS = ("SET synchronous_commit = off; SET work_mem = '512MB'; "
            "SET maintenance_work_mem = '1GB'; SET max_parallel_workers_per_gather = 0; "
            "SET jit = off")

# Stays from the registrations in one statement: each allowed "in" at a site that makes
# stays, ended by the person's next allowed in/out there before the cap (the rule of
# registrations/stays.py, whose rebuild does the same a few persons at a time). Run once
# per slice of the people ({slice}), on two connections at once.
STAYS_SQL = """
INSERT INTO stays (id, person_hash, site_id, started_at, ended_at, closed_by,
                   out_registration_id)
SELECT e.id, e.person_hash, e.site_id, e.occurred_at,
       CASE WHEN e.n_at > e.occurred_at AND e.n_at < e.occurred_at + e.cap THEN e.n_at
            ELSE e.occurred_at + e.cap END,
       CASE WHEN e.n_at > e.occurred_at AND e.n_at < e.occurred_at + e.cap
                 AND e.n_dir = 'out' THEN 'out' ELSE 'cap' END,
       CASE WHEN e.n_at > e.occurred_at AND e.n_at < e.occurred_at + e.cap
                 AND e.n_dir = 'out' THEN e.n_id END
FROM (SELECT r.id, r.person_hash, r.site_id, r.occurred_at, r.direction, c.cap,
             lead(r.id) OVER w AS n_id, lead(r.occurred_at) OVER w AS n_at,
             lead(r.direction) OVER w AS n_dir
      FROM registrations r JOIN sites s ON s.id = r.site_id
      JOIN (SELECT * FROM unnest(%(kinds)s::text[], %(caps)s::interval[])) AS c(kind, cap)
        ON c.kind = s.kind
      WHERE r.decision = 'allow' AND r.direction IN ('in', 'out')
        AND r.person_hash IS NOT NULL AND hashtext(r.person_hash) & %(slices)s = %(slice)s
      WINDOW w AS (PARTITION BY r.person_hash COLLATE "C", r.site_id
                   ORDER BY r.occurred_at, r.id)) e
WHERE e.direction = 'in'
"""


class Rand:
    """SQL for uniform numbers in [0, 1) that are a function of a row number and the
    seed: `r(expr, k)` is the k-th independent draw for row `expr`."""

    def __init__(self, seed: int) -> None:
        self.base = seed * 1000

    def __call__(self, expr: str, k: int) -> str:
        return (f"((hashint8extended(({expr})::bigint, {self.base + k}) & 2147483647)"
                "::float8 / 2147483648.0)")

    def int(self, expr: str, k: int, n: int) -> str:
        """A whole number in [0, n)."""
        return f"floor({self(expr, k)} * {n})::int"


def uuid_sql(at: str, counter: str) -> str:
    """A UUIDv7-shaped id from a time (its milliseconds) and a unique counter."""
    return (f"(lpad(to_hex((extract(epoch FROM {at}) * 1000)::bigint), 12, '0') || '70008' "
            f"|| lpad(to_hex(({counter})::bigint), 15, '0'))::uuid")


# --- the people (Python: ID numbers and keyed hashes) ------------------------------------

_VAULT: Any = None  # the pool's workers inherit it (fork)


def _people_slice(bounds: tuple[int, int]) -> list[tuple[int, str, str]]:
    out = []
    for i in range(*bounds):
        number = demo_id_number(f"5201{i % 90 + 10:02d}",
                                (date(1950, 1, 1) + timedelta(days=i // 900 % 20000))
                                .strftime("%Y%m%d"), f"{100 + i % 900}")
        out.append((i, _VAULT.lookup_hash(number), number[:6] + "********" + number[-4:]))
    return out


def _copy_people(dsn: str, rt: Runtime, persons: int) -> None:
    """bench_people(n, hash, masked): the people's numbers hashed by the app's vault."""
    global _VAULT
    _VAULT = rt.vault
    step = 50_000
    bounds = [(a, min(a + step, persons)) for a in range(0, persons, step)]
    with psycopg.connect(dsn) as conn, conn.cursor() as cur:
        cur.execute("CREATE UNLOGGED TABLE bench_people (n int, hash text, masked text)")
        ctx = multiprocessing.get_context("fork")
        with ctx.Pool(WORKERS) as pool, cur.copy(
                "COPY bench_people (n, hash, masked) FROM STDIN (FORMAT BINARY)") as copy:
            copy.set_types(["int4", "text", "text"])
            for rows in pool.imap(_people_slice, bounds):
                for row in rows:
                    copy.write_row(row)
        cur.execute("ALTER TABLE bench_people ADD PRIMARY KEY (n)")
        conn.commit()


# --- the statements -----------------------------------------------------------------------


def _statements(args: argparse.Namespace, t0: datetime, n_sites: int, n_homes: int,
                n_ent: int, days: int) -> dict[str, Any]:
    """The generating statements, by step; each step's items may run at once."""
    r = Rand(args.seed)
    persons = args.persons
    n_emp = min(persons, math.ceil(args.reports / (days * 0.85)))
    stride = next(p for p in (1_000_003, 999_983, 1_000_033, 7_919) if math.gcd(p, persons) == 1)
    t0s = f"'{t0.isoformat()}'::timestamptz"
    hours = "ARRAY[" + ",".join(map(str, HOURS)) + "]"
    person_row = "(SELECT hash FROM bench_people b WHERE b.n = {p})"
    people = f"""
INSERT INTO people (id, id_hash, id_enc, id_masked, name_enc, name_masked, status,
                    created_at)
SELECT md5('{args.seed}p' || n)::uuid, hash, 'bench'::bytea, masked, 'bench'::bytea, '张*',
       'green', now()
FROM bench_people"""
    # The employees: a fixed stride through the people (a bijection), each at the
    # enterprise k mod n, living at a community gate drawn for the person.
    emp = f"""
CREATE UNLOGGED TABLE bench_emp AS
SELECT k, e.ent, e.dept, e.site AS office, e.area AS office_area,
       md5('{args.seed}e' || k)::uuid AS id, md5('{args.seed}p' || p.n)::uuid AS person_id,
       p.hash, h.id AS home, h.area AS home_area
FROM generate_series(0, {n_emp - 1}) k
JOIN bench_people p ON p.n = (k::bigint * {stride}) % {persons}
JOIN bench_ent e ON e.n = k % {n_ent}
JOIN bench_homes h ON h.n = {r.int('p.n', 1, n_homes)}"""
    employees = """
INSERT INTO employees (id, enterprise_id, department_id, person_id, employee_no, status,
                       created_at)
SELECT id, ent, dept, person_id, 'E' || k, 'active', now() FROM bench_emp"""
    kd = f"(k * {days} + d)"
    evening = "x.day0 + interval '21 hours'"
    # Each employee's working days (one in ten off) until the report budget is spent, in
    # (employee, day) order; the times of the commute.
    rep = f"""
CREATE UNLOGGED TABLE bench_rep AS
SELECT x.*, {uuid_sql(evening, f'{1 << 58} + q')} AS rid,
       x.day0 + make_interval(mins => 7 * 60 + go_m) AS go,
       x.day0 + make_interval(mins => 7 * 60 + go_m + arrive_m) AS arrive,
       x.day0 + make_interval(mins => 17 * 60 + back_m) AS back,
       x.day0 + make_interval(mins => 17 * 60 + back_m + again_m) AS again
FROM (SELECT row_number() OVER (ORDER BY k, d) AS q, e.*, d,
             {t0s} + make_interval(days => d) AS day0,
             {r.int(kd, 3, 90)} AS go_m, 25 + {r.int(kd, 4, 30)} AS arrive_m,
             {r.int(kd, 5, 120)} AS back_m, 25 + {r.int(kd, 6, 30)} AS again_m,
             {r(kd, 7)} AS roll, {r(kd, 8)} < 0.02 AS train,
             {r.int(kd, 9, 40)} AS train_no, 1 + {r.int(kd, 10, 8)} AS car,
             1 + {r.int(kd, 11, 19)} AS seat_row, {r.int(kd, 12, n_sites)} AS lunch_site,
             {r.int(kd, 13, 60)} AS lunch_m
      FROM bench_emp e CROSS JOIN generate_series(0, {days - 1}) d
      WHERE {r(kd, 2)} >= 0.1) x
WHERE q <= {args.reports}"""
    reports = """
INSERT INTO daily_reports (id, employee_id, enterprise_id, department_id, report_date,
                           temperature, symptoms, stayed_home, source, submitted_at, late,
                           flagged, person_hash)
SELECT rid, id, ent, dept, (day0 AT TIME ZONE 'Asia/Shanghai')::date, 36.5, '[]', false,
       'form', day0 + interval '21 hours', false, false, hash FROM bench_rep"""
    report_stops = """
INSERT INTO report_stops (report_id, seq, area_code, place, arrive_at, depart_at, mode,
                          ref, seat)
SELECT rid, 1, home_area, '', day0, go, NULL, NULL, NULL FROM bench_rep
UNION ALL
SELECT rid, 2, office_area, '', arrive, back, CASE WHEN train THEN 'train' ELSE 'walk' END,
       CASE WHEN train THEN 'G' || train_no END,
       CASE WHEN train THEN '0' || car || '车' || seat_row || 'A' END FROM bench_rep
UNION ALL
SELECT rid, 3, home_area, '', again, NULL, 'walk', NULL, NULL FROM bench_rep"""
    reg_cols = ("id, site_id, lane, device_key, occurred_at, received_at, skew_flagged, "
                "future_flagged, direction, method, person_hash, person_masked, id_last4, "
                "companions, origin, destination, decision, reasons, decided_by")
    reg_rest = ("false, false, {dir}, 'qr', {hash}, '张*', '1234', 0, '', '', {decision}, "
                "'[]'::json, 'server'")
    # Most days: seen leaving home, at work and coming home; some: seen somewhere else
    # at lunch time; the rest: not seen.
    commute = f"""
INSERT INTO registrations ({reg_cols})
SELECT {uuid_sql('v.at', f'{1 << 57} + q * 8 + v.slot')}, v.site, '1', 'bench', v.at, v.at,
       {reg_rest.format(dir='v.dir', hash='c.hash', decision="'allow'")}
FROM bench_rep c CROSS JOIN LATERAL (VALUES
    (1, c.home, c.go, 'out'), (2, c.office, c.arrive, 'in'), (3, c.office, c.back, 'out'),
    (4, c.home, c.again, 'in')) AS v(slot, site, at, dir)
WHERE c.roll < 0.85
UNION ALL
SELECT {uuid_sql('at', f'{1 << 57} + q * 8')}, s.id, '1', 'bench', at, at,
       {reg_rest.format(dir="'through'", hash='c.hash', decision="'allow'")}
FROM (SELECT c.*, c.day0 + make_interval(mins => 12 * 60 + c.lunch_m) AS at
      FROM bench_rep c WHERE c.roll >= 0.85 AND c.roll < 0.93) c
JOIN bench_sites s ON s.n = c.lunch_site"""
    # Everyone's other visits: a road checkpoint is passed through, a stay site is
    # entered and (19 times in 20) left 10-240 minutes later; 1% are refused. Event i
    # makes one or two rows; each slice stops at its share of the budget.
    other = f"""
INSERT INTO registrations ({reg_cols})
SELECT {uuid_sql('v.at', 'i * 2 + v.j')}, e.site, '1', 'bench', v.at, v.at,
       {reg_rest.format(dir='v.dir', hash=person_row.format(p='e.p'),
                        decision="CASE WHEN e.deny THEN 'deny' ELSE 'allow' END")}
FROM (SELECT i, {r.int('i', 20, persons)} AS p, s.id AS site,
             s.kind = 'road_checkpoint' AS instant,
             {t0s} + make_interval(days => {r.int('i', 22, days)},
                                   mins => ({hours})[1 + {r.int('i', 23, len(HOURS))}] * 60)
             + {r('i', 24)} * interval '1 hour' AS at,
             {r('i', 25)} < 0.01 AS deny, {r('i', 26)} < 0.95 AS leaves,
             10 + {r.int('i', 27, 230)} AS stay_m
      FROM generate_series(%(lo)s::bigint, %(hi)s::bigint - 1) i
      JOIN bench_sites s ON s.n = {r.int('i', 21, n_sites)}) e
CROSS JOIN LATERAL (
  SELECT 1 AS j, e.at, CASE WHEN e.instant THEN 'through' ELSE 'in' END AS dir
  UNION ALL
  SELECT 2, e.at + make_interval(mins => e.stay_m), 'out'
  WHERE NOT e.instant AND e.leaves) v
LIMIT %(quota)s"""
    return {"people": people, "emp": emp, "employees": employees, "rep": rep,
            "reports": reports, "report_stops": report_stops, "commute": commute,
            "other": other, "n_emp": n_emp}


# --- running them ---------------------------------------------------------------------------


def _run(dsn: str, statement: str, params: dict[str, Any] | None = None) -> int:
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute(SETTINGS)
        cur = conn.execute(statement, params)  # type: ignore[arg-type]
        return cur.rowcount


def _parallel(dsn: str, jobs: Sequence[tuple[str, dict[str, Any] | None]]) -> list[int]:
    """Run statements WORKERS at a time, each on its own connection; their row counts."""
    with ThreadPoolExecutor(WORKERS) as pool:
        return list(pool.map(lambda job: _run(dsn, *job), jobs))


def _drop_indexes(conn: psycopg.Connection[Any]) -> list[str]:
    """Drop the big tables' secondary indexes and constraints; return how to remake them
    (indexes and unique constraints first, foreign keys last: a foreign key's check
    would wait for the index builds on its table anyway)."""
    indexes: list[str] = []
    keys: list[str] = []
    for table in BIG_TABLES:
        for name, kind, definition in conn.execute(
                "SELECT conname, contype, pg_get_constraintdef(oid) FROM pg_constraint "
                "WHERE conrelid = %s::regclass AND contype IN ('f', 'u')", (table,)):
            conn.execute(f'ALTER TABLE {table} DROP CONSTRAINT "{name}"')
            (keys if kind == "f" else indexes).append(
                f'ALTER TABLE {table} ADD CONSTRAINT "{name}" {definition}')
        for name, definition in conn.execute(
                "SELECT indexname, indexdef FROM pg_indexes WHERE tablename = %s "
                "AND indexname NOT IN (SELECT conname FROM pg_constraint "
                "WHERE conrelid = %s::regclass)", (table, table)).fetchall():
            conn.execute(f'DROP INDEX "{name}"')
            # A partitioned table's index reads "ON ONLY registrations": remade that way
            # it would cover no partition (INVALID, never used) and every read of the
            # benchmark would scan. Without ONLY it is built on each partition too.
            indexes.append(definition.replace(" ON ONLY ", " ON ", 1))
    # The biggest first, so the two connections finish together.
    indexes.sort(key=lambda s: ("registrations" not in s, "stays" not in s))
    return indexes + keys


def _day_partitions(rt: Runtime, first_day: date, days: int) -> None:
    """The registrations partitions of the generated days (a day either side for the
    time zone), as the job runner makes them for live days: the generated rows then lie
    in day partitions, not all in the default one, and a read bounded by the window's id
    range prunes the others, as it does in production."""
    with Session(rt.engine) as session:
        if partitions.is_partitioned(session):
            partitions.create_ahead(session, today=first_day + timedelta(days=days),
                                    days_ahead=1, since=first_day - timedelta(days=1))
            session.commit()


def _index_check(dsn: str) -> dict[str, int]:
    """Refuse a load whose indexes are not all usable; where its registrations lie.

    An index left INVALID (one made ON ONLY a partitioned table) is never used: every
    read would scan, and the figures would measure the loader, not the code."""
    with psycopg.connect(dsn) as conn:
        bad = conn.execute(
            "SELECT string_agg(i.indexrelid::regclass::text, ', ') FROM pg_index i "
            "JOIN pg_class c ON c.oid = i.indrelid WHERE NOT i.indisvalid").fetchone()
        if bad is not None and bad[0]:
            raise SystemExit(f"invalid indexes after loading: {bad[0]}")
        row = conn.execute(
            "SELECT count(*) FILTER (WHERE c.relname <> 'registrations_default'), "
            "(SELECT count(*) FROM registrations_default) FROM pg_inherits i "
            "JOIN pg_class c ON c.oid = i.inhrelid "
            "WHERE i.inhparent = 'registrations'::regclass").fetchone()
    assert row is not None
    return {"registration_partitions": int(row[0]), "registrations_in_default": int(row[1])}


def _seed(rt: Runtime, args: argparse.Namespace, area: str, streets: list[str],
          password: str, import_sites: int) -> tuple[list[dict[str, Any]], list[Any]]:
    """The official, the sites (and the import's own), an enterprise per office."""
    import random

    rnd = random.Random(args.seed)
    site_rows: list[dict[str, Any]] = []
    with Session(rt.engine, expire_on_commit=False) as session:
        area_service.load_bundled(session=session)
        user = account_service.create(session=session, rt=rt, actor=None, username="tracer",
                                      password=password, display_name="流调员")
        account_service.grant(session=session, actor=None, user=user, role="official",
                              scope_type="area", scope_value=area)
        kinds = [k for k, _ in KINDS]
        weights = [w for _, w in KINDS]
        for i in range(args.sites):
            kind = rnd.choices(kinds, weights)[0]
            site_rows.append({"id": uuid7(), "code": f"TB-{i:05d}", "name": f"基准场所{i}",
                              "kind": kind, "area_code": streets[i % len(streets)],
                              "lanes": ["1"], "opening_hours": [], "fever_threshold": 37.3,
                              "community_code": "", "active": True})
        for i in range(import_sites):  # the import's own sites (emptied after it)
            site_rows.append({"id": uuid7(), "code": f"TBI-{i:03d}", "name": f"导入场所{i}",
                              "kind": "venue", "area_code": streets[i % len(streets)],
                              "lanes": ["1"], "opening_hours": [], "fever_threshold": 37.3,
                              "community_code": "", "active": True})
        session.execute(Site.__table__.insert(), site_rows)
        enterprises = []
        for i, s in enumerate(r for r in site_rows[:args.sites]
                              if r["kind"] == "enterprise_gate"):
            ent = Enterprise(credit_code=f"9152010{i:011d}", name=f"基准企业{i}",
                             area_code=s["area_code"])
            session.add(ent)
            session.flush()
            dept = Department(enterprise_id=ent.id, name="综合部")
            session.add(dept)
            session.flush()
            enterprises.append((i, s["id"], s["area_code"], ent.id, dept.id))
        session.commit()
    return site_rows[:args.sites], enterprises


def _small_tables(dsn: str, sites: list[dict[str, Any]], enterprises: list[Any]) -> None:
    homes = [s for s in sites if s["kind"] == "community_gate"]
    with psycopg.connect(dsn) as conn, conn.cursor() as cur:
        cur.execute("CREATE UNLOGGED TABLE bench_sites (n int PRIMARY KEY, id uuid, kind text, "
                    "area text); CREATE UNLOGGED TABLE bench_homes (n int PRIMARY KEY, id uuid, "
                    "area text); CREATE UNLOGGED TABLE bench_ent (n int PRIMARY KEY, site uuid, "
                    "area text, ent uuid, dept uuid)")
        cur.executemany("INSERT INTO bench_sites VALUES (%s, %s, %s, %s)",
                        [(i, s["id"], s["kind"], s["area_code"]) for i, s in enumerate(sites)])
        cur.executemany("INSERT INTO bench_homes VALUES (%s, %s, %s)",
                        [(i, s["id"], s["area_code"]) for i, s in enumerate(homes)])
        cur.executemany("INSERT INTO bench_ent VALUES (%s, %s, %s, %s, %s)", enterprises)
        conn.commit()


def load(url: str, rt: Runtime, args: argparse.Namespace, *, first_day: date, days: int,
         local_midnight: datetime, area: str, streets: list[str], password: str,
         import_sites: int) -> dict[str, Any]:
    """Migrate, seed, generate, build the stays, index, analyze; sizes and timings.

    The shapes: --persons people; ~reports/(days*0.85) employees (enterprises at the
    enterprise gates, a home community gate each) filing one report a working day
    (home, office, home: three stops; 2% by train with a seat), seen at their home and
    office gates on 85% of those days (out, in, out, in) or somewhere else at lunch on
    8%; then everyone's other visits at random sites, days and (mostly daytime) hours
    until --registrations rows; the stays of all of it.
    """
    migrate.upgrade(rt.engine)
    timings: dict[str, float] = {}
    t = time.perf_counter()

    def lap(name: str) -> None:
        nonlocal t
        timings[name] = round(time.perf_counter() - t, 1)
        t = time.perf_counter()

    sites, enterprises = _seed(rt, args, area, streets, password, import_sites)
    dsn = url.replace("postgresql+psycopg://", "postgresql://")
    _small_tables(dsn, sites, enterprises)
    n_homes = sum(1 for s in sites if s["kind"] == "community_gate")
    if not n_homes or not enterprises:
        raise SystemExit("too few sites for homes and offices: raise --sites")
    _day_partitions(rt, first_day, days)
    with psycopg.connect(dsn) as conn:
        remake = _drop_indexes(conn)
        conn.commit()
    lap("seed_s")
    _copy_people(dsn, rt, args.persons)
    lap("people_hash_s")
    sql = _statements(args, local_midnight, len(sites), n_homes, len(enterprises), days)
    sizes: dict[str, Any] = {"persons": args.persons, "sites": len(sites)}
    # Step 1: the people; the employees' working days (both small next to step 2).
    _parallel(dsn, [(sql["people"], None), (sql["emp"] + ";" + sql["rep"], None)])
    lap("people_reports_s")
    # Step 2: the reports, their stops, the commutes, and the other visits in slices.
    with psycopg.connect(dsn) as conn:
        commute_rows = conn.execute(
            "SELECT count(*) FILTER (WHERE roll < 0.85) * 4 + "
            "count(*) FILTER (WHERE roll >= 0.85 AND roll < 0.93) FROM bench_rep").fetchone()
    assert commute_rows is not None
    rest = max(0, args.registrations - int(commute_rows[0]))
    slices = max(1, min(8, rest // 500_000))
    share = [rest // slices + (1 if s < rest % slices else 0) for s in range(slices)]
    starts = [sum(share[:s]) for s in range(slices)]
    # Each event makes at least one row: a slice's events [lo, lo + quota) always suffice.
    jobs: list[tuple[str, dict[str, Any] | None]] = [
        (sql["other"], {"lo": lo, "hi": lo + q, "quota": q}) for lo, q in zip(
            starts, share, strict=True) if q]
    jobs += [(sql["commute"], None), (sql["reports"], None), (sql["report_stops"], None),
             (sql["employees"], None)]
    counts = _parallel(dsn, jobs)
    sizes["registrations"] = sum(counts[:len(jobs) - 4]) + counts[-4]
    sizes["reports"], sizes["report_stops"], sizes["employees"] = counts[-3:]
    lap("generate_s")
    # The stays' statement joins the registrations to the sites: planned without
    # statistics (nothing has analyzed the tables just filled; autovacuum may be off) it
    # took every registration for one row and compared each with every site in a nested
    # loop (10M x 780: over an hour at 10M registrations).
    _parallel(dsn, [("ANALYZE sites, registrations", None)])
    lap("analyze_s")
    caps = {k: stays.cap_for(k) for k in sorted(stays.STAY_KINDS)}
    made = _parallel(dsn, [(STAYS_SQL, {"kinds": list(caps), "caps": list(caps.values()),
                                        "slices": WORKERS - 1, "slice": s})
                           for s in range(WORKERS)])
    sizes["stays"] = sum(made)
    lap("stays_s")
    _parallel(dsn, [(s, None) for s in remake if "FOREIGN KEY" not in s])
    _parallel(dsn, [(s, None) for s in remake if "FOREIGN KEY" in s])
    lap("indexes_s")
    sizes.update(_index_check(dsn))
    _run(dsn, "DROP TABLE bench_people, bench_emp, bench_rep, bench_sites, bench_homes, "
              "bench_ent")
    _parallel(dsn, [(f"VACUUM ANALYZE {t}", None) for t in (
        "registrations", "stays", "people", "report_stops", "daily_reports", "employees")])
    _run(dsn, "ANALYZE")
    _run(dsn, "CHECKPOINT")
    lap("analyze_s")
    timings["total_s"] = round(sum(timings.values()), 1)
    return {"sizes": sizes, "load_s": timings, "first_day": first_day.isoformat(),
            "generated_at": datetime.now(UTC).isoformat(), "loader": "sql"}
