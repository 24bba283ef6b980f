"""`passtrace keys rotate-pii`: move every ciphertext to the current keys, in batches.

Run it after setting a new `PASSTRACE_PII_KEY` (the old one moved to
`PASSTRACE_PII_PREVIOUS_KEYS`) or a new `PASSTRACE_KEY_WRAP_KEY`, and once after
upgrading to bound ciphertexts: values written before that (formats v1 and v2, no
associated data) are rewritten bound to their row and column (v3). Personal data is
found through the schema (every `*_enc` binary column), so a new table with encrypted
fields is covered without touching this file. Each batch commits on its own: an
interrupted run loses nothing and a second run carries on where it stopped.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from rich.progress import Progress
from sqlalchemy import Column, LargeBinary, Table, func, select, update
from sqlalchemy.engine import Connection

from passtrace.core.db import Base
from passtrace.core.pii import PiiBound, PiiVault

BATCH = 1000
# Columns holding wrapped signing keys: their own key, not the personal-data key.
WRAPPED = {("signing_keys", "private_enc")}


@dataclass
class RotationReport:
    """What a run re-encrypted, per table.column."""

    rewritten: dict[str, int] = field(default_factory=dict)

    @property
    def total(self) -> int:
        """Every value rewritten."""
        return sum(self.rewritten.values())


def bound_model(table: Table) -> type[PiiBound]:
    """The model of a table with encrypted columns (it says what binds them)."""
    for mapper in Base.registry.mappers:
        if mapper.local_table is table and issubclass(mapper.class_, PiiBound):
            return mapper.class_
    raise LookupError(f"{table.name} has encrypted columns but is not PiiBound")


def encrypted_columns() -> list[tuple[Table, Column[bytes]]]:
    """Every binary `*_enc` column in the schema."""
    import passtrace.models  # noqa: F401 - registers every table on the metadata

    found = []
    for table in Base.metadata.sorted_tables:
        for column in table.columns:
            if column.name.endswith("_enc") and isinstance(column.type, LargeBinary):
                found.append((table, column))
    return found


def _unit(conn: Connection) -> Any:
    """A batch's own transaction (a savepoint when the caller already holds one)."""
    return conn.begin_nested() if conn.in_transaction() else conn.begin()


def _rotate_column(conn: Connection, vault: PiiVault, table: Table, column: Column[bytes],
                   advance: Callable[[int], None]) -> int:
    wrapped = (table.name, column.name) in WRAPPED
    is_current = vault.is_wrapped_currently if wrapped else vault.is_current
    read = vault.unwrap if wrapped else vault.decrypt
    write = vault.wrap if wrapped else vault.encrypt
    model = bound_model(table)
    (pk,) = table.primary_key.columns
    bind = [table.c[name] for name in model.PII_BIND]
    rewritten, after = 0, None
    while True:
        query = (select(pk, column, *bind).where(column.is_not(None)).order_by(pk)
                 .limit(BATCH))
        if after is not None:
            query = query.where(pk > after)
        with _unit(conn):
            rows = conn.execute(query).all()
            if not rows:
                return rewritten
            stale = [row for row in rows if not is_current(row[1])]
            for key, blob, *identity in stale:
                ad = model.pii_ad_for(column.name, dict(zip(model.PII_BIND, identity,
                                                            strict=True)))
                conn.execute(update(table).where(pk == key)
                             .values({column.name: write(read(blob, ad=ad), ad=ad)}))
        rewritten += len(stale)
        after = rows[-1][0]
        advance(len(rows))


def rotate(conn: Connection, vault: PiiVault, progress: Progress | None = None
           ) -> RotationReport:
    """Re-encrypt every value not yet under the current keys."""
    report = RotationReport()
    for table, column in encrypted_columns():
        with _unit(conn):
            total = conn.execute(select(func.count()).select_from(table)
                                 .where(column.is_not(None))).scalar_one()
        task = (progress.add_task(f"{table.name}.{column.name}", total=total)
                if progress else None)

        def advance(n: int, task: object = task) -> None:
            if progress is not None and task is not None:
                progress.advance(task, n)  # type: ignore[arg-type]

        report.rewritten[f"{table.name}.{column.name}"] = _rotate_column(
            conn, vault, table, column, advance)
    return report
