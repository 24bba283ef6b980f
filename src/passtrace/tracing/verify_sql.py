"""The statement that classifies one chunk of daily reports (tracing/verify.py drives it).

One query per chunk returns every finding of the chunk's reports: one row per stop (its
class, and the registration or stay that corroborates or contradicts it) and one row per
unreported visit. The classes are defined in docs/tracing.md ("Verification"); the
statement is written once, with a few dialect fragments: PostgreSQL computes times with
intervals and probes the sites of an area through one `site_id = ANY(array)` index scan,
SQLite shifts its stored time strings (always `YYYY-MM-DD HH:MM:SS.ffffff`, so string
order is time order) and asks per site.

The anti-joins against the CTEs are `(...) NOT IN (SELECT ...)` (no NULLs on either
side, so the same as NOT EXISTS): PostgreSQL cannot estimate a CTE's rows, planned the
NOT EXISTS as nested loops rescanning the CTE for every row (5.7 of 7 s of a chunk on 1M
registrations), and runs a NOT IN as one hashed subplan.

Every read is bounded by the chunk's reports: stops by report id, registrations and stays
by (person, time) around the report's day, "did the area record anyone" by (site, time)
inside one stop's window, so a run costs the day's rows, not the table's.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    Date,
    DateTime,
    Integer,
    String,
    TextualSelect,
    Uuid,
    bindparam,
    column,
    text,
)
from sqlalchemy.types import NullType

from passtrace.core.db import UTCDateTime
from passtrace.registrations import lookback

# The significant prefix of a stop's area code (core/areacodes.significant_prefix):
# trailing zero pairs of a 6-digit code are dropped, longer codes are kept whole.
PREFIX = """CASE WHEN length(st.area_code) = 6 AND substr(st.area_code, 3, 4) = '0000'
                  THEN substr(st.area_code, 1, 2)
                  WHEN length(st.area_code) = 6 AND substr(st.area_code, 5, 2) = '00'
                  THEN substr(st.area_code, 1, 4)
                  ELSE st.area_code END"""

SQL = """
WITH days(d, day_start, day_end) AS (VALUES {days}),
-- The chunk's reports; one imported from another system has no enterprise and is
-- verified with the run's or the default tolerance.
r AS (
  SELECT d.id, d.person_hash AS h, days.day_start, days.day_end,
         COALESCE(:tol, NULLIF(e.verify_tolerance_minutes, 0), :default_tol) AS tol
  FROM {reports}
  LEFT JOIN enterprises e ON e.id = d.enterprise_id
  JOIN days ON days.d = d.report_date
),
s AS (
  SELECT st.report_id, st.seq, st.area_code, {prefix} AS p, r.h, r.tol, st.arrive_at AS a,
         {greatest}(COALESCE(st.depart_at,
                             lead(st.arrive_at) OVER (PARTITION BY st.report_id
                                                      ORDER BY st.seq),
                             r.day_end), st.arrive_at) AS e
  FROM r
  {stops}
),
w AS (
  SELECT s.*, {lo} AS lo, {hi} AS hi FROM s
),
span AS (
  SELECT report_id, min(lo) AS lo, max(hi) AS hi FROM w GROUP BY report_id
),
g AS (
  SELECT r.id AS report_id, x.id, x.occurred_at AS at, t.area_code
  FROM r
  LEFT JOIN span ON span.report_id = r.id
  {regs}
  JOIN sites t ON t.id = x.site_id
),
hit AS (
  SELECT w.report_id, w.seq, g.id, g.at, g.area_code, 0 AS k
  FROM w JOIN g ON g.report_id = w.report_id AND g.at >= w.lo AND g.at <= w.hi
  WHERE substr(g.area_code, 1, length(w.p)) = w.p
  UNION ALL
  SELECT w.report_id, w.seq, z.id, z.started_at, t.area_code, 1
  FROM w
  {stays}
  JOIN sites t ON t.id = z.site_id
  WHERE substr(t.area_code, 1, length(w.p)) = w.p
),
corr AS (
  SELECT report_id, seq, id, at, area_code FROM (
    SELECT hit.*, row_number() OVER (PARTITION BY report_id, seq ORDER BY k, at, id) AS n
    FROM hit) q
  WHERE n = 1
),
cov AS (
  SELECT DISTINCT report_id, id FROM hit WHERE k = 0
),
con AS (
  SELECT report_id, seq, id, at, area_code FROM (
    SELECT w.report_id, w.seq, g.id, g.at, g.area_code,
           row_number() OVER (PARTITION BY w.report_id, w.seq ORDER BY g.at, g.id) AS n
    FROM w JOIN g ON g.report_id = w.report_id AND g.at >= w.a AND g.at <= w.e
    WHERE substr(g.area_code, 1, length(w.p)) <> w.p
      AND (g.report_id, g.id) NOT IN (SELECT report_id, id FROM cov)
      AND (w.report_id, w.seq) NOT IN (SELECT report_id, seq FROM corr)) q
  WHERE n = 1
){sites_cte}
SELECT w.report_id, w.tol,
       CASE WHEN corr.id IS NOT NULL THEN 'corroborated'
            WHEN con.id IS NOT NULL THEN 'contradiction'
            WHEN {observed} THEN 'uncorroborated'
            ELSE 'unobservable' END AS cls,
       w.seq, COALESCE(corr.id, con.id) AS reg,
       COALESCE(corr.area_code, con.area_code, w.area_code) AS area,
       COALESCE(corr.at, con.at) AS at
FROM w
LEFT JOIN corr ON corr.report_id = w.report_id AND corr.seq = w.seq
LEFT JOIN con ON con.report_id = w.report_id AND con.seq = w.seq{sites_join}
UNION ALL
SELECT g.report_id, r.tol, 'unreported_visit', NULL, g.id, g.area_code, g.at
FROM g JOIN r ON r.id = g.report_id
WHERE g.at >= r.day_start AND g.at < r.day_end
  AND (g.report_id, g.id) NOT IN (SELECT report_id, id FROM cov)
  AND (g.report_id, g.id) NOT IN (SELECT report_id, id FROM con)
"""

PG = {
    # The chunk's reports by their primary key, one probe each: with `d.id = ANY(:ids)`
    # the planner scanned the whole table for every chunk (2,000 of the day's 20,000
    # reports: 18,000 rows read and dropped a chunk), a cost growing with the day.
    "reports": """unnest(CAST(:ids AS uuid[])) AS i (id)
  CROSS JOIN LATERAL (SELECT d.id, d.person_hash, d.enterprise_id, d.report_date
                      FROM daily_reports d WHERE d.id = i.id OFFSET 0) d""",
    "greatest": "GREATEST", "least": "LEAST",
    "lo": "s.a - make_interval(mins => s.tol)",
    "hi": "s.e + make_interval(mins => s.tol)",
    "stay_floor": "w.lo - make_interval(mins => :cap)",
    # The sites of each prefix as one array: the probe below is one index scan on
    # (site_id, occurred_at) that stops at the first registration. Each site's head of
    # each length the prefixes have (materialized: the planner would otherwise join the
    # sites to the prefixes first), joined on equality: a hash join. Joined on
    # `substr(area, 1, length(p)) = p` it was a nested loop over sites x prefixes
    # (4,000 x 40: 50 ms of a 500 ms chunk at 10M registrations).
    "sites_cte": """,
heads AS MATERIALIZED (
  SELECT t.id, substr(t.area_code, 1, l.n) AS head, l.n
  FROM (SELECT DISTINCT length(p) AS n FROM w) l CROSS JOIN sites t
),
ps AS (
  SELECT q.p, array_agg(t.id) AS sites
  FROM (SELECT DISTINCT p, length(p) AS n FROM w) q
  JOIN heads t ON t.head = q.p AND t.n = q.n
  GROUP BY q.p
)""",
    "sites_join": "\nLEFT JOIN ps ON ps.p = w.p",
    "observed": """EXISTS (SELECT 1 FROM registrations o
                           WHERE o.site_id = ANY(ps.sites)
                             AND o.occurred_at >= w.lo AND o.occurred_at <= w.hi
                             AND o.id >= """ + lookback.pg_ids_from("w.lo") + ")",
    # The lowest id a registration of the report's reads can have (registrations/
    # lookback.py): each probe then skips the day partitions older than the report's
    # day, at run time (about 12 us per partition and probe otherwise: ~35 partitions).
    "reg_floor": "\n            AND x.id >= " + lookback.pg_ids_from(
        "{least}(r.day_start, COALESCE(span.lo, r.day_start))"),
}


def _shift(col: str, minutes: str) -> str:
    # SQLite keeps a UTC time as 'YYYY-MM-DD HH:MM:SS.ffffff': shift the whole seconds
    # and keep the fraction, so the result compares with stored times as strings.
    return f"(strftime('%Y-%m-%d %H:%M:%S', {col}, ({minutes}) || ' minutes') || substr({col}, 20))"


SQLITE = {
    "reports": """(SELECT id, person_hash, enterprise_id, report_date FROM daily_reports
                   WHERE id IN :ids) d""",
    "greatest": "max", "least": "min",
    "lo": _shift("s.a", "-s.tol"),
    "hi": _shift("s.e", "s.tol"),
    "stay_floor": _shift("w.lo", "-:cap"),
    "sites_cte": "", "sites_join": "", "reg_floor": "",
    "observed": """EXISTS (SELECT 1 FROM sites t
                           JOIN registrations o ON o.site_id = t.id
                            AND o.occurred_at >= w.lo AND o.occurred_at <= w.hi
                           WHERE substr(t.area_code, 1, length(w.p)) = w.p)""",
}


# The person's registrations around the report's day, and their stays meeting a window.
REGS = ("registrations x", "x.id, x.occurred_at, x.site_id", """x.person_hash = r.h
            AND x.occurred_at >= {least}(r.day_start, COALESCE(span.lo, r.day_start))
            AND x.occurred_at <= {greatest}(r.day_end, COALESCE(span.hi, r.day_end)){reg_floor}""")
STAYS = ("stays z", "z.id, z.started_at, z.site_id", """z.person_hash = w.h
            AND z.started_at <= w.hi AND z.ended_at >= w.lo AND z.started_at >= {stay_floor}""")


# A report's stops, by its primary key (report_id, seq): with the ids as a join the
# planner scanned the whole table (in parallel) once per chunk, growing with the table.
STOPS = ("report_stops st", "st.report_id, st.seq, st.area_code, st.arrive_at, st.depart_at",
         "st.report_id = r.id")


def _probe(dialect: str, table: str, cols: str, cond: str) -> str:
    if dialect == "postgresql":
        # LATERAL (OFFSET 0 keeps the planner from flattening it): one (person, time)
        # index scan per report or stop, whatever the planner guesses for the CTEs (it
        # cannot see their sizes and may pick a hash join reading the whole table).
        alias = table.split()[-1]
        return f"CROSS JOIN LATERAL (SELECT {cols} FROM {table} WHERE {cond} OFFSET 0) {alias}"
    # SQLite has no LATERAL; its joins are nested loops on the same indexes anyway.
    return f"JOIN {table} ON {cond}"


# PostgreSQL: the chunk's findings compared with the stored ones in the same statement,
# so that only what changed comes back (the hourly job re-verifies yesterday and today,
# and nearly every finding is as stored: fetching both sets and comparing them in Python
# was about half of a run's CPU). A stored finding is the same when its key (report,
# class, stop, registration: what its id is made of), tolerance and detail are: the
# site's area and the registration's time (stored as ISO text, compared as an instant),
# or the stop's area where no registration is involved. Each side is folded into one
# byte-ordered text (`k`, COLLATE "C") and the two sides are FULL JOINed on it: a full
# join can only be a hash or merge join, whatever the planner guesses of the CTEs' sizes
# (a NOT IN over `o`, guessed at 578,000 rows, ran unhashed: 6 s a chunk; a join on the
# separate columns sorted text by the database's collation, ~20 us of CPU a report). A
# stored time that is not ISO text (never written so) makes the row stale. Rows: "new"
# (to insert), "stale" (a stored id to delete) and "count" (the findings of each class).
# CHANGED is the found (`n`) and stored (`o`) sides; CHANGES and STORE end it.
_KEY = ("concat_ws('|', {p}report_id, {p}cls, COALESCE({p}seq, -1), COALESCE({p}reg, ''), "
        "{p}tol, COALESCE({area}, '-'), {at}) COLLATE \"C\"")
CHANGED = """
WITH f AS ({sql}),
n AS (
  SELECT report_id::text AS report_id, tol, cls, seq, reg::text AS reg, area, at,
         """ + _KEY.format(p="f.", area="f.area", at="COALESCE(extract(epoch FROM f.at)::text, '')"
                           ).replace("f.report_id", "f.report_id::text").replace(
                               "f.reg,", "f.reg::text,") + """ AS k
  FROM f
),
o AS (
  SELECT o.id, """ + _KEY.format(
      p="o.", area="CASE WHEN o.at IS NULL THEN o.area ELSE o.site_area END",
      at="CASE WHEN o.at IS NULL THEN '' "
         "WHEN o.at ~ '^[0-9]{{4}}-[0-9]{{2}}-[0-9]{{2}}T[0-9:.]+[+-][0-9:]+$' "
         "THEN extract(epoch FROM CAST(o.at AS timestamptz))::text ELSE 'x' END") + """ AS k
  FROM (SELECT o.id, o.report_id::text AS report_id, o.finding_class AS cls, o.stop_seq AS seq,
               o.registration_id::text AS reg, o.tolerance_minutes AS tol,
               o.detail ->> 'site_area_code' AS site_area, o.detail ->> 'area_code' AS area,
               o.detail ->> 'at' AS at
        FROM unnest(CAST(:ids AS uuid[])) AS i (id)
        CROSS JOIN LATERAL (SELECT * FROM report_findings o WHERE o.report_id = i.id
                            OFFSET 0) o) o
)
"""
CHANGES = CHANGED + """
SELECT CASE WHEN o.k IS NULL THEN 'new' ELSE 'stale' END AS change, o.id::text AS fid,
       n.report_id, n.tol, n.cls, n.seq, n.reg, n.area, n.at, 1 AS n
FROM n FULL JOIN o ON o.k = n.k
WHERE n.k IS NULL OR o.k IS NULL
UNION ALL
SELECT 'count', NULL, NULL, NULL, cls, NULL, NULL, NULL, NULL, count(*) FROM n GROUP BY cls
"""

# The UUIDv5 of a finding (tracing/verify.finding_id: SHA-1 of the namespace and
# "report/class/stop/registration", the stop and registration empty when absent or 0)
# with its version and variant bits set, from pgcrypto's digest (migration c1e5a9d3f7b2),
# named with its schema (`{digest}`, see pgcrypto_digest): never whatever function of that
# name the search path finds first.
FINDING_ID = """encode(set_byte(set_byte(x.h, 6, (get_byte(x.h, 6) & 15) | 80),
                     8, (get_byte(x.h, 8) & 63) | 128), 'hex')::uuid"""
FINDING_HASH = """substring({digest}(decode(:ns, 'hex') || convert_to(
    n.report_id || '/' || n.cls || '/' || COALESCE(NULLIF(n.seq, 0)::text, '') || '/'
    || COALESCE(n.reg, ''), 'UTF8'), 'sha1') FROM 1 FOR 16)"""
# The detail as the Python path writes it (json.dumps of {"site_area_code", "at"} or of
# {"area_code"}; the column is json, kept as text): the time in UTC, ISO 8601, with its
# microseconds only when there are any, as datetime.isoformat() writes them. Area codes
# are digits (stops' and sites' codes must name a division of the bundled table): to_json
# would keep a non-ASCII character that json.dumps escapes.
DETAIL = """CASE WHEN n.at IS NULL
  THEN '{{"area_code": ' || COALESCE(to_json(n.area)::text, 'null') || '}}'
  ELSE '{{"site_area_code": ' || COALESCE(to_json(n.area)::text, 'null') || ', "at": "'
       || to_char(n.at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS')
       || CASE WHEN extract(microseconds FROM n.at)::int % 1000000 = 0 THEN ''
               ELSE to_char(n.at AT TIME ZONE 'UTC', '.US') END
       || '+00:00"}}' END"""

# PostgreSQL: CHANGES, applied where it is found. The chunk's new findings are inserted
# and its stale ones deleted by the same statement, with their ids made here, so no
# finding travels to Python and back (fetching, hashing and COPYing them was about a
# third of a day's first run at 10M registrations). A stale finding whose key comes back
# with another tolerance or detail has the same id (the id is made of the key, and of
# the report: every stored row it could meet is one of `o`): that row is updated in
# place, the other new ones inserted and the other stale ones deleted, three disjoint
# sets of rows. (INSERT ... ON CONFLICT DO UPDATE for all of them cost half as much
# again as the plain insert: 2.6 s against 1.7 s for a day's 114,620 findings.)
# Rows: each class with its count of the chunk's findings. (The three writes run to
# completion though the final SELECT reads none of them: PostgreSQL runs every
# data-modifying WITH once, whether or not its output is read.)
STORE = CHANGED + """,
d AS (
  SELECT o.id AS fid, n.* FROM n FULL JOIN o ON o.k = n.k
  WHERE n.k IS NULL OR o.k IS NULL
),
stale AS MATERIALIZED (SELECT fid FROM d WHERE fid IS NOT NULL),
nw AS MATERIALIZED (
  SELECT DISTINCT ON (id) """ + FINDING_ID + """ AS id, x.*
  FROM (SELECT n.*, """ + FINDING_HASH + """ AS h FROM d n WHERE n.fid IS NULL) x
  ORDER BY id
),
del AS (
  DELETE FROM report_findings g
  WHERE g.id IN (SELECT fid FROM stale) AND g.id NOT IN (SELECT id FROM nw)
),
upd AS (
  UPDATE report_findings g
  SET tolerance_minutes = n.tol, detail = CAST(""" + DETAIL + """ AS json),
      computed_at = :now
  FROM nw n
  WHERE g.id = n.id AND g.id IN (SELECT fid FROM stale)
),
ins AS (
  INSERT INTO report_findings (id, report_id, finding_class, stop_seq, registration_id,
                               tolerance_minutes, detail, computed_at)
  SELECT n.id, n.report_id::uuid, n.cls, n.seq, n.reg::uuid, n.tol,
         CAST(""" + DETAIL + """ AS json), :now
  FROM nw n
  WHERE n.id NOT IN (SELECT fid FROM stale)
)
SELECT cls, count(*) AS n FROM n GROUP BY cls
"""


def statement(dialect: str, days: dict[date, tuple[datetime, datetime]],
              registrations: Callable[[str], str] | None = None,
              changes: bool = False, store: str | None = None) -> TextualSelect:
    """The chunk statement for a dialect and the local days its reports may fall on
    (date -> UTC start, end: computed in Python, core/clock, so both databases agree).

    `registrations(columns)` (PostgreSQL) names what to read instead of the table: the
    day partitions whose rows occurred in the chunk's span (registrations/partitions.
    relation), so the per-report and per-stop probes skip the others. `changes`
    (PostgreSQL): return only what differs from the stored findings (CHANGES). `store`
    (PostgreSQL; pgcrypto's digest function, schema-qualified, see pgcrypto_digest): apply
    those differences and return each class's count (STORE; its parameters `ns`, the
    finding ids' namespace as hex, and `now`, their computed_at).
    """
    frag = PG if dialect == "postgresql" else SQLITE
    if registrations is not None:
        frag = {**frag, "observed": frag["observed"].replace(
            "FROM registrations o", f"FROM {registrations('id, site_id, occurred_at')} o")}
    values = ", ".join(f"(:d{i}, :s{i}, :e{i})" for i in range(len(days)))
    # Twice: the id floor's fragment names {least} itself.
    table = REGS[0] if registrations is None else (
        registrations("id, person_hash, site_id, occurred_at") + " x")
    regs = _probe(dialect, table, REGS[1], REGS[2].format(**frag).format(**frag))
    stays = _probe(dialect, STAYS[0], STAYS[1], STAYS[2].format(**frag))
    stops = _probe(dialect, *STOPS)
    sql = SQL.format(days=values, prefix=PREFIX, regs=regs, stays=stays, stops=stops, **frag)
    ident: Any = Uuid
    extra: list[Any] = []
    if dialect == "postgresql" and store:
        binds: list[Any] = [bindparam("ns", type_=String), bindparam("now", type_=UTCDateTime())]
        return text(STORE.format(sql=sql, digest=store)).bindparams(
            *_binds(dialect, days), *binds).columns(
            column("cls", String), column("n", Integer))
    if dialect == "postgresql" and changes:
        sql = CHANGES.format(sql=sql)
        ident = String
        extra = [column("change", String), column("fid", String)]
    elif dialect == "postgresql":
        # The ids as text: tracing/verify.py keys its comparison on them, and strings
        # hash in C where a uuid.UUID hashes in Python.
        sql = ("SELECT report_id::text AS report_id, tol, cls, seq, reg::text AS reg, area, "
               f"at FROM ({sql}) q")
        ident = String
    return text(sql).bindparams(*_binds(dialect, days)).columns(
        *extra, column("report_id", ident), column("tol", Integer), column("cls", String),
        column("seq", Integer), column("reg", ident), column("area", String),
        # PostgreSQL hands back aware times (the caller converts to UTC); SQLite naive.
        column("at", DateTime(timezone=True) if dialect == "postgresql" else UTCDateTime()),
        *([column("n", Integer)] if extra else []))


def _binds(dialect: str, days: dict[date, tuple[datetime, datetime]]) -> list[Any]:
    """The chunk statement's parameters: the reports, tolerances, cap and days."""
    binds: list[Any] = [
        # PostgreSQL: an array literal in one untyped parameter (verify.pg_array), read
        # by the server as uuid[] and planned as a constant.
        bindparam("ids", type_=NullType() if dialect == "postgresql" else Uuid,
                  expanding=dialect != "postgresql"),
        bindparam("tol", type_=Integer), bindparam("default_tol", type_=Integer),
        bindparam("cap", type_=Integer)]
    for i, (day, (start, end)) in enumerate(sorted(days.items())):
        binds += [bindparam(f"d{i}", day, type_=Date),
                  bindparam(f"s{i}", start, type_=UTCDateTime()),
                  bindparam(f"e{i}", end, type_=UTCDateTime())]
    return binds


_SCHEMA = re.compile(r"[a-z_][a-z0-9_$]*\Z")


def pgcrypto_digest(conn: Any) -> str | None:
    """pgcrypto's `digest`, named with the schema the extension lives in (None: not
    installed, or in a schema whose name would need quoting; verify then makes the ids
    in Python). Found in the catalog, not through the search path, so a function of the
    same name that another role created in a schema searched first is never called."""
    schema = conn.execute(text(
        "SELECT n.nspname FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace "
        "WHERE e.extname = 'pgcrypto'")).scalar()
    return f"{schema}.digest" if schema and _SCHEMA.match(schema) else None
