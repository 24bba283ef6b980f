"""The loader of benchmarks/warnings.py: people, sites, registrations and daily reports
generated inside PostgreSQL (the approach and helpers of benchmarks/tracing_load.py).

Shapes (all a function of the row number, `hashint8extended` through tracing_load.Rand):
- `sites` sites over Guiyang's nine districts and counties, weighted by population
  (WEIGHTS), with coordinates around each district's centre; a few hundred
  enterprises at them, one department each;
- `persons` people (id_hash = md5('person' || n): the rules never need a real ID number,
  so the vault's keyed hash is not paid for), each living in a district drawn by the
  same weights;
- `registrations` over `days` local days, `last_day` of them on the last day and the
  rest spread evenly: 80% at a site of the person's home district, 20% anywhere; 70%
  with a pass (pass_id = md5('pass' || n)); 1 in 200 with a fever, 1 in 500 refused as
  revoked/expired, 1 in 1000 as outside the pass's areas. The ids are UUIDv7 of the
  occurred time, so each row lands in its UTC day's partition (made before the load);
- `reports` daily reports of employees (one in ten working days without one), each with
  two stops (home, office area); 1 in 300 with a fever and a symptom.
Tables are loaded without their secondary indexes (tracing_load._drop_indexes), on two
connections at once, then indexed, VACUUM ANALYZEd.
"""

from __future__ import annotations

import argparse
import math
import time
from datetime import UTC, date, datetime, timedelta
from typing import Any

import psycopg
import tracing_load as tl  # the shared generators: Rand, uuid_sql, _parallel, ...
from sqlalchemy import text
from sqlalchemy.orm import Session

from passtrace.areas import service as area_service
from passtrace.core import migrate
from passtrace.core.clock import local_midnight
from passtrace.core.runtime import Runtime
from passtrace.registrations import partitions

# District (county-level) codes with their share of the sites and people, in percent,
# and the centre their sites' coordinates spread around.
WEIGHTS = (("520102", 18, 26.56, 106.71), ("520103", 18, 26.60, 106.71),
           ("520111", 13, 26.41, 106.67), ("520112", 9, 26.63, 106.75),
           ("520113", 7, 26.68, 106.62), ("520115", 12, 26.62, 106.63),
           ("520121", 9, 27.06, 106.97), ("520122", 6, 27.10, 106.74),
           ("520123", 8, 26.83, 106.59))
ENTERPRISES = 400


def first_midnight(days: int, today: date) -> datetime:
    """The start (UTC) of the first generated local day; the last is `today`."""
    return local_midnight(today - timedelta(days=days - 1))


def _sites(session: Session, n_sites: int) -> None:
    """Sites sorted by district (district d's sites are contiguous), with coordinates."""
    rows: list[dict[str, Any]] = []
    counts = [round(n_sites * w / 100) for _, w, _, _ in WEIGHTS]
    counts[0] += n_sites - sum(counts)
    for (code, _, lat, lon), count in zip(WEIGHTS, counts, strict=True):
        for k in range(count):
            i = len(rows)
            rows.append({"n": i, "area": f"{code}{1 + k % 12:03d}", "district": code,
                         "lat": lat + (k % 20 - 10) * 0.004, "lon": lon + (k // 20 % 20 - 10)
                         * 0.004})
    session.execute(text(
        "INSERT INTO sites (id, created_at, code, name, kind, area_code, latitude, longitude,"
        " lanes, opening_hours, fever_threshold, community_code, active) VALUES "
        "(md5('site' || :n)::uuid, now(), 'W' || :n, '基准场所' || :n, 'venue', :area, :lat,"
        " :lon, '[\"1\"]', '[]', 37.3, '', true)"), rows)
    session.execute(text(
        "CREATE UNLOGGED TABLE bench_wsites (n int PRIMARY KEY, id uuid, area text, d int)"))
    session.execute(text(
        "INSERT INTO bench_wsites SELECT :n, md5('site' || :n)::uuid, :area, :d"),
        [{"n": r["n"], "area": r["area"],
          "d": [w[0] for w in WEIGHTS].index(r["district"])} for r in rows])
    # Each district's first site and count; the percent -> district table for homes.
    session.execute(text(
        "CREATE UNLOGGED TABLE bench_wdist AS SELECT d, min(n) AS first, count(*) AS cnt "
        "FROM bench_wsites GROUP BY d"))
    session.execute(text("CREATE UNLOGGED TABLE bench_wpct (pct int PRIMARY KEY, d int)"))
    pct = [d for d, (_, w, _, _) in enumerate(WEIGHTS) for _ in range(w)]
    session.execute(text("INSERT INTO bench_wpct VALUES (:p, :d)"),
                    [{"p": p, "d": d} for p, d in enumerate(pct)])
    session.execute(text(f"""
        INSERT INTO enterprises (id, created_at, credit_code, name, area_code, address,
                                 report_deadline, verify_tolerance_minutes)
        SELECT md5('ent' || e)::uuid, now(), '91520' || lpad(e::text, 13, '0'),
               '基准企业' || e, s.area, '', '10:00', 30
        FROM generate_series(0, {ENTERPRISES - 1}) e
        JOIN bench_wsites s ON s.n = (e * 7919) % {n_sites}"""))
    session.execute(text(f"""
        INSERT INTO departments (id, created_at, enterprise_id, name)
        SELECT md5('dep' || e)::uuid, now(), md5('ent' || e)::uuid, '综合部'
        FROM generate_series(0, {ENTERPRISES - 1}) e"""))


def _statements(args: argparse.Namespace, t0: datetime) -> dict[str, Any]:
    r = tl.Rand(7)
    persons, days = args.persons, args.days
    t0s = f"'{t0.isoformat()}'::timestamptz"
    # The person's home district: the percent table by the person's number.
    home = ("JOIN bench_wpct hp ON hp.pct = mod({p}, 100) "
            "JOIN bench_wdist dd ON dd.d = hp.d")
    people = f"""
INSERT INTO people (id, id_hash, id_enc, id_masked, name_enc, name_masked, status,
                    created_at)
SELECT md5('p' || n)::uuid, md5('person' || n), 'bench'::bytea,
       '520123********' || lpad((n % 10000)::text, 4, '0'), 'bench'::bytea, '张*', 'green',
       {t0s} - interval '30 days'
FROM generate_series(0, {persons - 1}) n"""
    # Registration i: its day (the last day gets `last_day`, the others share the rest),
    # a time in the day, a person, a site (home district 4 times in 5).
    last_day = min(args.last_day, args.registrations)
    rest = args.registrations - last_day
    per_other = max(1, math.ceil(rest / max(1, days - 1)))
    reg = f"""
INSERT INTO registrations (id, site_id, lane, device_key, occurred_at, received_at,
    skew_flagged, future_flagged, direction, method, person_hash, person_masked, id_last4,
    pass_id, temperature, companions, origin, destination, decision, reasons, decided_by)
SELECT {tl.uuid_sql('x.at', 'x.i')}, s.id, '1', 'bench', x.at, x.at, false, false,
       'through', CASE WHEN x.qr THEN 'qr' ELSE 'id_typed' END, md5('person' || x.p), '张*',
       '1234', CASE WHEN x.qr THEN md5('pass' || x.p)::uuid END,
       CASE WHEN x.roll < 0.005 THEN 38.2 ELSE 36.5 END, 0, '', '',
       CASE WHEN x.deny < 0.003 THEN 'deny' ELSE 'allow' END,
       (CASE WHEN x.deny < 0.001 THEN '["revoked"]' WHEN x.deny < 0.002 THEN '["expired"]'
             WHEN x.deny < 0.003 THEN '["area_not_allowed"]' ELSE '[]' END)::json, 'server'
FROM (SELECT i, p, {t0s} + make_interval(days => day, secs => {r('i', 2)} * 86400) AS at,
             {r('i', 3)} < 0.8 AS at_home, {r('i', 4)} AS pick, {r('i', 5)} < 0.7 AS qr,
             {r('i', 6)} AS roll, {r('i', 7)} AS deny
      FROM (SELECT i, {r.int('i', 1, persons)} AS p,
                   CASE WHEN i >= {rest} THEN {days - 1} ELSE (i / {per_other})::int END AS day
            FROM generate_series(%(lo)s::bigint, %(hi)s::bigint - 1) i) y) x
{home.format(p='x.p')}
JOIN bench_wsites s ON s.n = CASE WHEN x.at_home THEN dd.first + floor(x.pick * dd.cnt)::int
                                  ELSE floor(x.pick * {args.sites})::int END"""
    n_emp = min(persons, math.ceil(args.reports / (days * 0.9)))
    stride = next(p for p in (1_000_003, 999_983, 7_919) if math.gcd(p, persons) == 1)
    kd = f"(k * {days} + d)"
    rep = f"""
CREATE UNLOGGED TABLE bench_wrep AS
SELECT k, d, md5('rep' || k || '-' || d)::uuid AS rid, (k::bigint * {stride}) % {persons} AS p,
       k % {ENTERPRISES} AS e, {t0s} + make_interval(days => d) AS day0,
       {r(kd, 11)} < 0.0033 AS fever
FROM generate_series(0, {n_emp - 1}) k CROSS JOIN generate_series(0, {days - 1}) d
WHERE {r(kd, 10)} >= 0.1"""
    employees = f"""
INSERT INTO employees (id, enterprise_id, department_id, person_id, employee_no, status,
                       created_at)
SELECT md5('emp' || k)::uuid, md5('ent' || k % {ENTERPRISES})::uuid,
       md5('dep' || k % {ENTERPRISES})::uuid, md5('p' || (k::bigint * {stride}) % {persons})::uuid,
       'E' || k, 'active', {t0s} - interval '30 days'
FROM generate_series(0, {n_emp - 1}) k"""
    reports = """
INSERT INTO daily_reports (id, employee_id, enterprise_id, department_id, report_date,
                           temperature, symptoms, stayed_home, source, submitted_at, late,
                           flagged, person_hash)
SELECT rid, md5('emp' || k)::uuid, md5('ent' || e)::uuid, md5('dep' || e)::uuid,
       (day0 AT TIME ZONE 'Asia/Shanghai')::date, CASE WHEN fever THEN 38.3 ELSE 36.5 END,
       (CASE WHEN fever THEN '["cough"]' ELSE '[]' END)::json, false, 'form',
       day0 + interval '21 hours', false, fever, md5('person' || p)
FROM bench_wrep"""
    stops = f"""
INSERT INTO report_stops (report_id, seq, area_code, place, arrive_at, depart_at, mode)
SELECT w.rid, 1, s.area, '', w.day0 + interval '7 hours', w.day0 + interval '8 hours', NULL
FROM bench_wrep w {home.format(p='w.p')}
JOIN bench_wsites s ON s.n = dd.first + mod(w.p, dd.cnt)::int
UNION ALL
SELECT w.rid, 2, e.area_code, '', w.day0 + interval '9 hours', w.day0 + interval '17 hours',
       'walk'
FROM bench_wrep w JOIN enterprises e ON e.id = md5('ent' || w.e)::uuid"""
    return {"people": people, "reg": reg, "rep": rep, "employees": employees,
            "reports": reports, "stops": stops}


def load(url: str, rt: Runtime, args: argparse.Namespace, today: date) -> dict[str, Any]:
    """Migrate, make the partitions, generate, index, analyze; sizes and timings."""
    migrate.upgrade(rt.engine)
    timings: dict[str, float] = {}
    t = time.perf_counter()

    def lap(name: str) -> None:
        nonlocal t
        timings[name] = round(time.perf_counter() - t, 1)
        t = time.perf_counter()

    t0 = first_midnight(args.days, today)
    with Session(rt.engine) as session:
        area_service.load_bundled(session=session)
        # One partition per UTC day the generated ids fall in (and two days ahead).
        partitions.create_ahead(session, today=today, days_ahead=2,
                                since=t0.astimezone(UTC).date())
        _sites(session, args.sites)
        session.commit()
    dsn = url.replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(dsn) as conn:
        remake = tl._drop_indexes(conn)
        conn.commit()
    lap("seed_s")
    sql = _statements(args, t0)
    slices = max(1, min(16, args.registrations // 500_000))
    step = math.ceil(args.registrations / slices)
    jobs: list[tuple[str, dict[str, Any] | None]] = [
        (sql["reg"], {"lo": lo, "hi": min(lo + step, args.registrations)})
        for lo in range(0, args.registrations, step)]
    jobs += [(sql["people"], None), (sql["rep"], None)]
    counts = tl._parallel(dsn, jobs)
    sizes: dict[str, Any] = {"registrations": sum(counts[:-2]), "persons": counts[-2],
                             "sites": args.sites}
    counts = tl._parallel(dsn, [(sql["employees"], None), (sql["reports"], None),
                                (sql["stops"], None)])
    sizes["employees"], sizes["reports"], sizes["report_stops"] = counts
    lap("generate_s")
    tl._parallel(dsn, [(s, None) for s in remake if "FOREIGN KEY" not in s])
    tl._parallel(dsn, [(s, None) for s in remake if "FOREIGN KEY" in s])
    lap("indexes_s")
    tl._run(dsn, "DROP TABLE bench_wsites, bench_wdist, bench_wpct, bench_wrep")
    tl._parallel(dsn, [(f"VACUUM ANALYZE {t}", None) for t in (
        "registrations", "people", "daily_reports", "report_stops", "employees", "sites")])
    tl._run(dsn, "ANALYZE")
    tl._run(dsn, "CHECKPOINT")
    lap("analyze_s")
    timings["total_s"] = round(sum(timings.values()), 1)
    return {"sizes": sizes, "load_s": timings}
