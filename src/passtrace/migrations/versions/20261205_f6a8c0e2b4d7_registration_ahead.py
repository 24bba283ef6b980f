"""dashboard: registrations stamped ahead of their write are counted apart, by their time

Revision ID: f6a8c0e2b4d7
Revises: e3f5a7c9b1d2
Create Date: 2026-12-05 22:10:00

The hourly counts (migration d4a5b6c7e8f9) count a row for its whole hour as soon as
it is written, so the dashboard took away, on every request, the open hour's rows
stamped after its `now`, re-read from registrations: a device clock running fast, or a
load that stamps the rest of the day ahead, made that the city's largest cost (~22k
heap rows). The triggers now compare each row's occurred_at with the database's clock
(the writing statement's start): a row already past goes to the hourly deltas as
before; a row stamped ahead goes to `registration_ahead`, keyed by its exact time, and
is counted only by a reader whose `now` is past it (dashboard/rollup.py says why this
is exact). The fold moves such rows into their hour once the clock has passed them.

Existing databases: the rows already stamped ahead of this migration's clock are moved
from the hourly counts to `registration_ahead` here, with writers to registrations held
off by a table lock until commit, so no row is counted twice or missed (at 10M
registrations with 748k rows ahead: see docs/dashboard.md for the time it took).
"""

from __future__ import annotations

from importlib import import_module

import sqlalchemy as sa
from alembic import op

from passtrace.core.db import UTCDateTime

revision = 'f6a8c0e2b4d7'
down_revision = 'e3f5a7c9b1d2'
branch_labels = None
depends_on = None

# One registration's counts with its exact time, as the rows of a write statement.
_PG_ROW = """r.occurred_at AS at, r.site_id, r.decision,
             CASE WHEN r.decision = 'deny' THEN r.reasons::text ELSE '' END AS reasons,
             {sign} AS n,
             CASE WHEN r.temperature >= s.fever_threshold THEN {sign} ELSE 0 END AS fevers
             FROM {rows} r JOIN sites s ON s.id = r.site_id"""

# Split the counts `x` by the writer's clock: statement_timestamp() is the writing
# statement's start, so a row counted by the hour has occurred_at <= a time before its
# commit, hence before any reader that sees it reads its clock (dashboard/rollup.py
# relies on exactly that). Not now(), the transaction's start: a long transaction would
# keep counting rows as ahead, and a fold in one would never see their time pass.
_PG_SPLIT = """
  WITH x AS MATERIALIZED ({rows}),
  ahead AS (INSERT INTO registration_ahead (at, site_id, decision, reasons, n, fevers)
            SELECT at, site_id, decision, reasons, sum(n), sum(fevers) FROM x
            WHERE at > statement_timestamp() GROUP BY at, site_id, decision, reasons
            HAVING sum(n) <> 0 OR sum(fevers) <> 0)
  INSERT INTO registration_hour_deltas (hour, site_id, decision, reasons, n, fevers)
  SELECT date_trunc('hour', at, 'UTC'), site_id, decision, reasons, sum(n), sum(fevers)
  FROM x WHERE at <= statement_timestamp() GROUP BY 1, 2, 3, 4
  HAVING sum(n) <> 0 OR sum(fevers) <> 0;"""


def _pg_function(name: str, parts: list[str]) -> str:
    rows = " UNION ALL ".join(f"SELECT {p}" for p in parts)
    return f"""
CREATE OR REPLACE FUNCTION {name}() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN{_PG_SPLIT.format(rows=rows)}
  RETURN NULL;
END $$"""


_NEW = _PG_ROW.format(sign=1, rows="new_rows")
_OLD = _PG_ROW.format(sign=-1, rows="old_rows")

# One inserted row (an online scan: most statements) keeps its own path by the primary
# key (migration d4a5b6c7e8f9 measured why); several take the grouped split.
_PG_INSERT = """
CREATE OR REPLACE FUNCTION registration_hours_count_new() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
  one record;
  many boolean;
BEGIN
  SELECT count(*) > 1 INTO many FROM (SELECT 1 FROM new_rows LIMIT 2) x;
  IF NOT many THEN
    FOR one IN SELECT * FROM new_rows LOOP
      IF one.occurred_at > statement_timestamp() THEN
        INSERT INTO registration_ahead (at, site_id, decision, reasons, n, fevers)
        SELECT one.occurred_at, one.site_id, one.decision,
               CASE WHEN one.decision = 'deny' THEN one.reasons::text ELSE '' END, 1,
               CASE WHEN one.temperature >= s.fever_threshold THEN 1 ELSE 0 END
        FROM sites s WHERE s.id = one.site_id;
      ELSE
        INSERT INTO registration_hour_deltas (hour, site_id, decision, reasons, n, fevers)
        SELECT date_trunc('hour', one.occurred_at, 'UTC'), one.site_id, one.decision,
               CASE WHEN one.decision = 'deny' THEN one.reasons::text ELSE '' END, 1,
               CASE WHEN one.temperature >= s.fever_threshold THEN 1 ELSE 0 END
        FROM sites s WHERE s.id = one.site_id;
      END IF;
    END LOOP;
    RETURN NULL;
  END IF;""" + _PG_SPLIT.format(rows=f"SELECT {_NEW}") + """
  RETURN NULL;
END $$"""

_PG_FUNCTIONS = (
    _PG_INSERT,
    _pg_function("registration_hours_count_old", [_OLD]),
    _pg_function("registration_hours_count", [_OLD, _NEW]),
    """CREATE OR REPLACE FUNCTION registration_hours_truncate() RETURNS trigger
       LANGUAGE plpgsql AS $$
       BEGIN DELETE FROM registration_hour_deltas; DELETE FROM registration_hours;
       DELETE FROM registration_ahead; RETURN NULL; END $$""",
)

# SQLite: row triggers, times as SQLAlchemy stores them ('YYYY-MM-DD HH:MM:SS.ffffff',
# UTC; read with ' ' whether stored with ' ' or 'T'), the clock at millisecond precision
# ('YYYY-MM-DD HH:MM:SS.fff', constant within one statement): a row later than it, even
# within its millisecond, is ahead.
_SQLITE_AT = "substr({r}.occurred_at, 1, 10) || ' ' || substr({r}.occurred_at, 12)"
_SQLITE_CLOCK = "strftime('%Y-%m-%d %H:%M:%f', 'now')"
_SQLITE_HOUR = ("substr({r}.occurred_at, 1, 10) || ' ' || substr({r}.occurred_at, 12, 2)"
                " || ':00:00.000000'")
_SQLITE_VALUES = """{r}.site_id, {r}.decision,
    CASE WHEN {r}.decision = 'deny' THEN {r}.reasons ELSE '' END, {sign},
    coalesce((SELECT CASE WHEN {r}.temperature >= s.fever_threshold THEN {sign} ELSE 0 END
              FROM sites s WHERE s.id = {r}.site_id), 0)"""
_SQLITE_ROW = (
    "INSERT INTO registration_hour_deltas (hour, site_id, decision, reasons, n, fevers)"
    f" SELECT {_SQLITE_HOUR}, {_SQLITE_VALUES} WHERE {_SQLITE_AT} <= {_SQLITE_CLOCK};"
    " INSERT INTO registration_ahead (at, site_id, decision, reasons, n, fevers)"
    f" SELECT {_SQLITE_AT}, {_SQLITE_VALUES} WHERE {_SQLITE_AT} > {_SQLITE_CLOCK};")
_SQLITE_TRIGGERS = (
    f"""CREATE TRIGGER registration_hours_insert AFTER INSERT ON registrations BEGIN
        {_SQLITE_ROW.format(r='NEW', sign=1)} END""",
    f"""CREATE TRIGGER registration_hours_update AFTER UPDATE OF occurred_at, site_id,
        decision, reasons, temperature ON registrations BEGIN
        {_SQLITE_ROW.format(r='OLD', sign=-1)} {_SQLITE_ROW.format(r='NEW', sign=1)} END""",
    f"""CREATE TRIGGER registration_hours_delete AFTER DELETE ON registrations BEGIN
        {_SQLITE_ROW.format(r='OLD', sign=-1)} END""",
)


def upgrade() -> None:
    op.create_table(
        'registration_ahead',
        sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'),
                  autoincrement=True, nullable=False),
        sa.Column('at', UTCDateTime(timezone=True), nullable=False),
        sa.Column('site_id', sa.Uuid(), nullable=False),
        sa.Column('decision', sa.String(8), nullable=False),
        sa.Column('reasons', sa.Text(), nullable=False),
        sa.Column('n', sa.BigInteger(), nullable=False),
        sa.Column('fevers', sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_registration_ahead')))
    op.create_index('ix_registration_ahead_at', 'registration_ahead', ['at'])
    postgres = op.get_bind().dialect.name == "postgresql"
    if postgres:
        # Writers wait until this commits: the rows moved below stay exactly those ahead.
        op.execute("LOCK TABLE registrations IN SHARE ROW EXCLUSIVE MODE")
        # Folds delete what has passed every minute (as registration_hour_deltas).
        op.execute("ALTER TABLE registration_ahead SET (autovacuum_vacuum_threshold"
                   " = 1000, autovacuum_vacuum_scale_factor = 0,"
                   " autovacuum_analyze_threshold = 1000, autovacuum_analyze_scale_factor = 0)")
        for statement in _PG_FUNCTIONS:
            op.execute(statement)
        # Rows already stamped ahead: out of their hour, into registration_ahead.
        op.execute(f"""
            WITH x AS MATERIALIZED (
              SELECT {_PG_ROW.format(sign=1, rows='registrations')}
              WHERE r.occurred_at > statement_timestamp()),
            ahead AS (INSERT INTO registration_ahead (at, site_id, decision, reasons, n, fevers)
                      SELECT at, site_id, decision, reasons, sum(n), sum(fevers) FROM x
                      GROUP BY at, site_id, decision, reasons
                      -- stored in time order: a reader's range is then a few pages
                      ORDER BY at)
            INSERT INTO registration_hour_deltas (hour, site_id, decision, reasons, n, fevers)
            SELECT date_trunc('hour', at, 'UTC'), site_id, decision, reasons, -sum(n),
                   -sum(fevers)
            FROM x GROUP BY 1, 2, 3, 4""")
        return
    for name in ("insert", "update", "delete"):
        op.execute(f"DROP TRIGGER IF EXISTS registration_hours_{name}")
    for statement in _SQLITE_TRIGGERS:
        op.execute(statement)
    clock = op.get_bind().scalar(sa.text(f"SELECT {_SQLITE_CLOCK}"))
    ahead = f"{_SQLITE_AT.format(r='r')} > :clock"
    op.get_bind().execute(sa.text(f"""
        INSERT INTO registration_ahead (at, site_id, decision, reasons, n, fevers)
        SELECT {_SQLITE_AT.format(r='r')}, r.site_id, r.decision,
               CASE WHEN r.decision = 'deny' THEN r.reasons ELSE '' END, count(*),
               sum(CASE WHEN r.temperature >= s.fever_threshold THEN 1 ELSE 0 END)
        FROM registrations r JOIN sites s ON s.id = r.site_id WHERE {ahead}
        GROUP BY 1, 2, 3, 4"""), {"clock": clock})
    op.get_bind().execute(sa.text(f"""
        INSERT INTO registration_hour_deltas (hour, site_id, decision, reasons, n, fevers)
        SELECT {_SQLITE_HOUR.format(r='r')}, r.site_id, r.decision,
               CASE WHEN r.decision = 'deny' THEN r.reasons ELSE '' END, -count(*),
               -sum(CASE WHEN r.temperature >= s.fever_threshold THEN 1 ELSE 0 END)
        FROM registrations r JOIN sites s ON s.id = r.site_id WHERE {ahead}
        GROUP BY 1, 2, 3, 4"""), {"clock": clock})


def downgrade() -> None:
    """Back to counting every row by its hour: what is ahead goes back to its hour."""
    postgres = op.get_bind().dialect.name == "postgresql"
    if postgres:
        op.execute("LOCK TABLE registrations IN SHARE ROW EXCLUSIVE MODE")
    op.execute("""
        INSERT INTO registration_hour_deltas (hour, site_id, decision, reasons, n, fevers)
        SELECT hour, site_id, decision, reasons, sum(n), sum(fevers) FROM (
          SELECT """ + ("date_trunc('hour', at, 'UTC')" if postgres else
                        "substr(at, 1, 13) || ':00:00.000000'") + """ AS hour,
                 site_id, decision, reasons, n, fevers FROM registration_ahead) x
        GROUP BY 1, 2, 3, 4""")
    # The previous revision's trigger functions and triggers, unchanged.
    previous = import_module(
        "passtrace.migrations.versions.20261204_d4a5b6c7e8f9_registration_hours")
    if postgres:
        for statement in previous._PG_TRIGGERS[:4]:
            op.execute(statement.replace("CREATE FUNCTION", "CREATE OR REPLACE FUNCTION", 1))
    else:
        for name in ("insert", "update", "delete"):
            op.execute(f"DROP TRIGGER IF EXISTS registration_hours_{name}")
        for statement in previous._SQLITE_TRIGGERS:
            op.execute(statement)
    op.drop_index('ix_registration_ahead_at', table_name='registration_ahead')
    op.drop_table('registration_ahead')
