"""Append one chained audit entry on PostgreSQL inside the statement that stores its subject.

An entry's hash (audit/chain.py) covers canonical JSON in which only `seq` and
`prev_hash` depend on the chain's head. The text is built here with two unique
placeholders and cut around them, so PostgreSQL hashes `before || head.hash || middle
|| head.seq + 1 || after` itself: the head is read inside the write statement, and
appending costs no round trip of its own (no "read the head, then insert").

Race: two writers reading the same head would fork the chain. The caller takes the
chain's lock (LOCK_CHAIN) in an earlier statement of the same transaction: in READ
COMMITTED each statement's snapshot is taken when it starts, so the write statement
sees the head the previous lock holder committed; a lock taken inside the statement
itself would come after its snapshot. tests/communities/test_gate_fast_path.py checks
the chain with `passtrace audit verify`'s code after concurrent gate checks.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from typing import Any

import orjson

from passtrace.audit import chain

LOCK_CHAIN = "SELECT pg_advisory_xact_lock(%s)"
LOCK_CHAIN_PARAMS = (chain.PG_LOCK_KEY,)
COLUMNS = ("at", "actor_user_id", "actor_name", "action", "resource_type", "resource_id",
           "subject_person_id", "reason", "detail", "ip")
# A CTE (to list after the caller's own): the next position and the previous hash.
HEAD_CTE = ("a_head AS (SELECT COALESCE(l.seq, 0) + 1 AS seq, COALESCE(l.hash, %s) AS prev "
            "FROM (SELECT 1) AS one LEFT JOIN (SELECT seq, hash FROM audit_entries "
            "WHERE lane = 0 ORDER BY seq DESC LIMIT 1) AS l ON true)")


def insert_sql(source: str) -> str:
    """The final INSERT of a WITH statement: one entry per row of CTE `source`."""
    values = ", ".join("%s::json" if c == "detail" else "%s" for c in COLUMNS)
    return (f" INSERT INTO audit_entries ({', '.join(COLUMNS)}, seq, prev_hash, hash) "
            f"SELECT {values}, a_head.seq, a_head.prev, encode(sha256(convert_to("
            "%s::text || a_head.prev || %s::text || a_head.seq::text || %s::text, 'UTF8')), "
            f"'hex') FROM {source}, a_head RETURNING id")


def params(fields: Mapping[str, Any], lane: int = chain.MAIN_LANE
           ) -> tuple[tuple[Any, ...], tuple[Any, ...]]:
    """HEAD_CTE's parameters and insert_sql's, for an entry's fields (record()'s); `lane`:
    a side lane's entry hashes its lane too (audit/lanes.py)."""
    detail = orjson.loads(orjson.dumps(fields.get("detail")))  # as it reads back
    doc = {c: fields.get(c) for c in COLUMNS} | {"detail": detail, "lane": lane}
    while True:
        # Placeholders nothing else in the entry can contain (checked below).
        prev, seq = uuid.uuid4().hex, str(uuid.uuid4().int)
        text = chain.canonical(doc | {"seq": int(seq)}, prev).decode("utf-8")
        if text.count(prev) == 1 and text.count(seq) == 1 and text.index(prev) < text.index(seq):
            break
    before, rest = text.split(prev)
    middle, after = rest.split(seq)
    stored = tuple(orjson.dumps(detail).decode() if c == "detail" else doc[c] for c in COLUMNS)
    return (chain.GENESIS,), (*stored, before, middle, after)


def per_subject_sql(subjects: str, fields: Mapping[str, Any]) -> tuple[str, tuple[Any, ...]]:
    """One chained entry per person id that the query `subjects` selects (column `id`),
    in one statement: the same fields for each but `subject_person_id`.

    Set-based: the ids go into one array in id order, and a recursive CTE walks it,
    hashing each entry's text with the previous entry's hash (the chain is sequential;
    an array subscript keeps each step O(1)). As for `insert_sql`, the text is built in
    Python with unique placeholders for the previous hash, the position and the person,
    and cut around them. The caller takes LOCK_CHAIN in an earlier statement.
    """
    detail = orjson.loads(orjson.dumps(fields.get("detail")))  # as it reads back
    doc = {c: fields.get(c) for c in COLUMNS} | {"detail": detail}
    while True:
        prev, seq, who = uuid.uuid4().hex, str(uuid.uuid4().int), uuid.uuid4().hex
        text = chain.canonical(doc | {"seq": int(seq), "subject_person_id": who},
                               prev).decode("utf-8")
        if (all(text.count(p) == 1 for p in (prev, seq, who))
                and text.index(prev) < text.index(seq) < text.index(who)):
            break
    before, rest = text.split(prev)
    middle, rest = rest.split(seq)
    after_seq, after = rest.split(who)
    values = ", ".join("%s::json" if c == "detail" else
                       "s.ids[c.i]" if c == "subject_person_id" else "%s" for c in COLUMNS)
    stored = tuple(orjson.dumps(detail).decode() if c == "detail" else doc[c]
                   for c in COLUMNS if c != "subject_person_id")
    sql = (f"WITH RECURSIVE a_subj AS (SELECT array_agg(x.id ORDER BY x.id) AS ids "
           f"FROM ({subjects}) AS x), {HEAD_CTE}, "
           "a_chain(i, seq, prev, hash) AS (SELECT 0, a_head.seq - 1, NULL::text, a_head.prev "
           "FROM a_head UNION ALL SELECT c.i + 1, c.seq + 1, c.hash, encode(sha256(convert_to("
           "%s::text || c.hash || %s::text || (c.seq + 1)::text || %s::text || "
           "(s.ids[c.i + 1])::text || %s::text, 'UTF8')), 'hex') FROM a_chain c, a_subj s "
           "WHERE c.i < COALESCE(cardinality(s.ids), 0)) "
           f"INSERT INTO audit_entries ({', '.join(COLUMNS)}, seq, prev_hash, hash) "
           f"SELECT {values}, c.seq, c.prev, c.hash FROM a_chain c, a_subj s WHERE c.i > 0")
    return sql, (chain.GENESIS, before, middle, after_seq, after, *stored)

