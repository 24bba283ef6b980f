"""The fast paths' write statements stay within what psycopg caches.

psycopg parses a statement's text once and caches it only while it has at most
MAX_CACHED_STATEMENT_PARAMS parameters (and MAX_CACHED_STATEMENT_LENGTH characters);
past that it parses the text again at every execution: about 0.3 ms of a gate
check's CPU for its one write statement (registration, outing, stays, audit entry).
"""

from __future__ import annotations

from psycopg import _queries

from passtrace.audit import pg_append
from passtrace.communities.outings import gate_fast
from passtrace.registrations import fastpath, stays


def _params(sql: str) -> int:
    return sql.count("%s")


def test_the_gate_and_checkpoint_writes_are_cached_by_psycopg():
    head = pg_append.HEAD_CTE + pg_append.insert_sql("r")
    stay_in = ", " + stays._PG_END["in"] + ", " + stays._PG_OPEN_ONE
    stay_out = ", " + stays._PG_END["out"]
    writes = {
        "gate in": gate_fast._INSERT_REG + gate_fast._CLOSE_OUTING + stay_in + ", " + head,
        "gate out": (gate_fast._INSERT_REG + gate_fast._CLOSE_OUTING + gate_fast._OPEN_OUTING
                     + stay_out + ", " + head),
        "checkpoint in": fastpath._INSERT_REG + stay_in + fastpath._INSERT_AUDIT,
    }
    for name, sql in writes.items():
        assert _params(sql) <= _queries.MAX_CACHED_STATEMENT_PARAMS, name
        assert len(sql) <= _queries.MAX_CACHED_STATEMENT_LENGTH, name
