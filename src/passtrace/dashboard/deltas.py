"""Fold an append-only table of deltas into the totals it adds up to.

Counters the dashboard reads (registrations per hour, active staff per enterprise) are
kept by triggers that append each write's change to a deltas table, so that writers
never wait on a shared counter row; a job folds the deltas into the totals table, and
readers add both. One mechanism for every such pair.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import BindParameter, text
from sqlalchemy.orm import Session


def fold(session: Session, *, deltas: str, totals: str, keys: str, sums: tuple[str, ...],
         keep_if: str = "", binds: tuple[BindParameter[Any], ...] = (),
         params: dict[str, Any] | None = None, due: str = "",
         key_values: str = "") -> int:
    """Move the rows of `deltas` into `totals`, summing `sums` per `keys` (the totals'
    unique key); the delta rows folded. `keep_if`: a condition on the deltas' columns
    for the sums worth keeping (the others are dropped with their deltas), with its
    `binds` and `params`. `due`: a condition on the deltas' columns for the rows to fold
    now (the others stay); `key_values`: the totals' keys computed from the deltas'
    columns, in the order of `keys` (default: the same columns).

    Race: a fold deleting deltas that another fold is adding would count them twice, and
    deltas committed between reading and deleting them would be lost. On PostgreSQL the
    deletion and the addition are one statement (one snapshot: exactly the deltas it
    deleted are added; a delta committed meanwhile stays for the next fold), and folds
    take a transaction advisory lock so two job runners fold one after the other.
    SQLite has one writer at a time: the two statements see the same deltas.
    """
    columns = ", ".join(sums)
    summed = ", ".join(f"sum({c})" for c in sums)
    width = len(keys.split(","))
    by_position = ", ".join(str(i + 1) for i in range(width))
    key_values = key_values or keys
    upsert = (f"ON CONFLICT ({keys}) DO UPDATE SET "
              + ", ".join(f"{c} = {totals}.{c} + excluded.{c}" for c in sums))
    params = dict(params or {})
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text(f"SELECT pg_advisory_xact_lock(hashtext('{totals}'))"))
        where = f" WHERE {keep_if}" if keep_if else ""
        return int(session.execute(text(
            f"WITH gone AS (DELETE FROM {deltas}{f' WHERE {due}' if due else ''}"
            " RETURNING *),"
            f" added AS (INSERT INTO {totals} ({keys}, {columns})"
            f" SELECT {key_values}, {summed} FROM gone{where}"
            f" GROUP BY {by_position} ORDER BY {by_position} {upsert} RETURNING 1)"
            " SELECT (SELECT count(*) FROM gone)").bindparams(*binds),
            params).scalar_one() or 0)
    chosen = f"id <= :last{f' AND {due}' if due else ''}"
    last = session.scalar(text(f"SELECT max(id) FROM {deltas}"
                               f"{f' WHERE {due}' if due else ''}"), params) or 0
    where = f" AND {keep_if}" if keep_if else ""
    session.execute(text(
        f"INSERT INTO {totals} ({keys}, {columns}) SELECT {key_values}, {summed}"
        f" FROM {deltas} WHERE {chosen}{where} GROUP BY {by_position} {upsert}"
        ).bindparams(*binds), params | {"last": last})
    folded = session.execute(  # type: ignore[attr-defined]
        text(f"DELETE FROM {deltas} WHERE {chosen}"), params | {"last": last}).rowcount
    return int(folded or 0)
