"""PostgreSQL: one level of secondary contacts searched and stored by one statement.

The level statement (`colocation.level_sql`) summarizes each person the level's contacts
met; here the same statement writes those summaries into case_contacts itself (INSERT ...
SELECT ... ON CONFLICT), so the 30k rows of a commuter's level 2 never travel to Python
and back as JSON: only their ids come back, to name them in the answer and to search the
next level from. The rows are what `contacts._store` would write for them, byte for byte
(the evidence and counts as compact JSON text, in the same key order).

Persons the statement cannot finish alone come back in summary instead (`tagged 'P'`),
for contacts.py to store as before: those the level also met in a household or on a
trip (found in Python, `ties`) and those whose stored row holds evidence from outside
the search (`contacts._keep_outside`).
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from passtrace.core.clock import LOCAL_TZ
from passtrace.tracing import colocation

# The contact columns a new search may change, and the upsert's conflict clause: shared
# with contacts._PG_UPSERT (depth 1, and the persons this statement hands back), so a
# row stored by either statement is compared and updated by the same rules.
UPDATED = ("person_id", "kind", "depth", "via_contact_id", "first_exposure", "last_exposure",
           "quarantine_until", "area_code", "evidence", "evidence_counts")
PG_ON_CONFLICT = (
    "ON CONFLICT (case_id, person_hash) DO UPDATE SET "
    + ", ".join(f"{n} = excluded.{n}" for n in UPDATED)
    + " WHERE " + " OR ".join(
        f"case_contacts.{n}::jsonb IS DISTINCT FROM excluded.{n}::jsonb"
        if n in ("evidence", "evidence_counts") else
        f"case_contacts.{n} IS DISTINCT FROM excluded.{n}" for n in UPDATED))


def _iso(col: str) -> str:
    """`datetime.astimezone(UTC).isoformat()` of a timestamptz, in SQL (`colocation.example`
    writes it so): microseconds only when there are any."""
    utc = f"({col} AT TIME ZONE 'UTC')"
    return (f"to_char({utc}, 'YYYY-MM-DD\"T\"HH24:MI:SS') || CASE WHEN"
            f" extract(microseconds FROM {utc})::bigint %% 1000000 <> 0"
            f" THEN to_char({utc}, '.US') ELSE '' END || '+00:00'")


# An example item as orjson writes `colocation.example`'s dict: {"kind","site","from","to"}.
_ITEM = ("'{\"kind\":' || to_json(e.k)::text || ',\"site\":\"' || e.s::text"
         " || '\",\"from\":\"' || " + _iso("e.lo") + " || '\",\"to\":\"' || " + _iso("e.hi")
         + " || '\"}'")

# After the level's CTEs: `via` names each index person's contact row (by rank), `chosen`
# keeps the persons this statement stores (not the case's person, not one stored at a
# lower depth: contacts._secondary's rules), `made` is each one's row as _store makes it.
_TAIL = """,
via AS (SELECT * FROM unnest(%(via)s::uuid[]) WITH ORDINALITY AS v(id, rank)),
-- Joined (hashed), not `<> ALL(array)`, which a generic plan searches row by row: 31k
-- summaries times every hash handed to Python.
py AS MATERIALIZED (SELECT DISTINCT h FROM unnest(%(py)s::text[]) AS p(h)),
chosen AS (
  SELECT x.*, v.id AS via_id, old.id AS old_id, old.person_id AS old_person
  FROM x JOIN src s ON s.h = x.src JOIN via v ON v.rank = s.rank
  LEFT JOIN case_contacts old ON old.case_id = %(case)s AND old.person_hash = x.h
  WHERE x.h <> %(me)s AND NOT EXISTS (SELECT 1 FROM py WHERE py.h = x.h)
    AND (old.id IS NULL OR old.depth >= %(level)s)),
made AS MATERIALIZED (
  SELECT COALESCE(c.old_id, gen_random_uuid()) AS id, c.h AS person_hash,
         CASE WHEN c.old_id IS NULL
              THEN (SELECT p.id FROM people p WHERE p.id_hash = c.h)
              ELSE c.old_person END AS person_id,
         'secondary'::text AS kind, %(level)s::smallint AS depth, c.via_id AS via_contact_id,
         c.first AS first_exposure, c.last AS last_exposure,
         (c.last AT TIME ZONE %(tz)s)::date + %(days)s::int AS quarantine_until,
         COALESCE(c.area, '') AS area_code,
         (SELECT ('[' || string_agg(""" + _ITEM + """, ',' ORDER BY e.i) || ']')::json
          FROM unnest(c.kinds, c.sites, c.los, c.his) WITH ORDINALITY AS e(k, s, lo, hi, i)
         ) AS evidence,
         ('{' || concat_ws(',',
             CASE WHEN c.n_instant > 0 THEN '"instant_in_stay":' || c.n_instant END,
             CASE WHEN c.n_window > 0 THEN '"same_site_window":' || c.n_window END,
             CASE WHEN c.n_overlap > 0 THEN '"stay_overlap":' || c.n_overlap END)
          || '}')::json AS evidence_counts
  FROM chosen c),
put AS (
  INSERT INTO case_contacts (id, case_id, person_hash, found_at, """ + ", ".join(UPDATED) + """)
  SELECT id, %(case)s, person_hash, %(now)s, """ + ", ".join(UPDATED) + """ FROM made
  """ + PG_ON_CONFLICT + """)
SELECT 'S'::text, NULL::text, person_hash, id, person_id, NULL::bigint, NULL::bigint, NULL::bigint,
       first_exposure, NULL::timestamptz, area_code, NULL::text[], NULL::uuid[],
       NULL::timestamptz[], NULL::timestamptz[] FROM made
UNION ALL
SELECT 'P', x.src, x.h, NULL, NULL, x.n_window, x.n_overlap, x.n_instant, x.first, x.last,
       x.area, x.kinds, x.sites, x.los, x.his FROM x JOIN py ON py.h = x.h
"""
STORE_SQL = colocation.level_sql(_TAIL)


def store_level(session: Session, *, case_id: uuid.UUID, case_hash: str,
                sources: Sequence[colocation.Source], via: Sequence[uuid.UUID],
                in_python: Sequence[str], end: datetime, window_minutes: int,
                overlap_minutes: Mapping[str, int], examples: int, level: int, days: int,
                now: datetime) -> tuple[list[tuple[str, uuid.UUID, uuid.UUID | None,
                                                   datetime, str]],
                                        dict[str, dict[str, colocation.Summary]]]:
    """Search the level (`sources`, each found through the contact row `via` of the same
    position) and store its secondary contacts at depth `level`.

    Returns what was stored, (person hash, id, person id, first exposure, area), and the
    summaries of the `in_python` persons, by index person, for the caller to store."""
    params = colocation.level_params(sources=sources, end=end,
                                     window_minutes=window_minutes,
                                     overlap_minutes=overlap_minutes, examples=examples)
    params.update({"via": list(via), "case": case_id, "me": case_hash,
                   "py": list(in_python), "level": level, "days": days, "now": now,
                   "tz": LOCAL_TZ.key})
    stored: list[tuple[str, uuid.UUID, uuid.UUID | None, datetime, str]] = []
    summed: dict[str, dict[str, colocation.Summary]] = {}
    row: Any
    # Planned for these values each time, not prepared with a generic plan as the level's
    # search alone is (colocation.prepared): the generic plan of this statement cost a
    # commuter's level 5.8 s of PostgreSQL CPU against 3.4 s planned each time, and the
    # planning (tens of ms) is small beside any level that stores many rows. JIT stays
    # off (colocation.prepared says why).
    raw = session.connection().connection.driver_connection
    assert raw is not None
    with raw.cursor() as cur:
        cur.execute("SET LOCAL jit = off")
        cur.execute(STORE_SQL, params)
        rows = cur.fetchall()
    for row in rows:
        (tag, src, h, cid, pid, n_window, n_overlap, n_instant, first, last, area, kinds,
         sites, los, his) = row
        if tag == "S":
            stored.append((h, cid, pid, first, area))
            continue
        summed.setdefault(src, {})[h] = colocation.summary_of(
            n_window, n_overlap, n_instant, first, last, area, kinds, sites, los, his)
    return stored, summed
