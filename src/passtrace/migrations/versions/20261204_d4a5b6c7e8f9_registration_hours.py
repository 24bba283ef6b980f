"""dashboard: registrations counted by the hour, kept by triggers (registration_hours)

Revision ID: d4a5b6c7e8f9
Revises: d9a4c2e7f150
Create Date: 2026-12-04 20:50:00

Every write to registrations appends its counts to registration_hour_deltas in the same
transaction (dashboard/models.py says why triggers and why append-only); the job
dashboard.fold-hours folds them into registration_hours. The last KEEP_DAYS of existing
registrations are counted here, after the triggers exist: creating a trigger locks the
table against writes until this migration commits, so no row is counted twice or missed.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from passtrace.core.db import UTCDateTime

revision = 'd4a5b6c7e8f9'
down_revision = 'd9a4c2e7f150'
branch_labels = None
depends_on = None

KEEP_DAYS = 2  # dashboard.rollup.KEEP: the dashboard reads the last 24 hours

# PostgreSQL: one statement per write statement, grouped (a COPY of thousands of rows
# adds a few rows), hours truncated in UTC whatever the session's TimeZone.
_PG_ROW = """date_trunc('hour', r.occurred_at, 'UTC') AS hour, r.site_id, r.decision,
             CASE WHEN r.decision = 'deny' THEN r.reasons::text ELSE '' END AS reasons,
             {sign} AS n,
             CASE WHEN r.temperature >= s.fever_threshold THEN {sign} ELSE 0 END AS fevers
             FROM {rows} r JOIN sites s ON s.id = r.site_id"""
def _pg_function(name: str, parts: list[str]) -> str:
    """A trigger function adding the grouped counts of its transition tables."""
    rows = "\n    UNION ALL\n    ".join(f"SELECT {p}" for p in parts)
    return f"""
CREATE FUNCTION {name}() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO registration_hour_deltas (hour, site_id, decision, reasons, n, fevers)
  SELECT hour, site_id, decision, reasons, sum(n), sum(fevers) FROM (
    {rows}) x
  GROUP BY hour, site_id, decision, reasons
  HAVING sum(n) <> 0 OR sum(fevers) <> 0;
  RETURN NULL;
END $$"""


_NEW = _PG_ROW.format(sign=1, rows="new_rows")
_OLD = _PG_ROW.format(sign=-1, rows="old_rows")

# An insert of one row (an online scan: most statements) takes the row and its site by
# the primary key: planning the grouped join over a transition table for one row added
# ~340 us of backend CPU per statement, this ~30 us (benchmarks/dashboard.py,
# results.trigger_cost). Several rows (a batch, a COPY, an import) take the grouped join.
_PG_INSERT = """
CREATE FUNCTION registration_hours_count_new() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  one record;
  many boolean;
BEGIN
  SELECT count(*) > 1 INTO many FROM (SELECT 1 FROM new_rows LIMIT 2) x;
  IF NOT many THEN
    FOR one IN SELECT * FROM new_rows LOOP
      INSERT INTO registration_hour_deltas (hour, site_id, decision, reasons, n, fevers)
      SELECT date_trunc('hour', one.occurred_at, 'UTC'), one.site_id, one.decision,
             CASE WHEN one.decision = 'deny' THEN one.reasons::text ELSE '' END, 1,
             CASE WHEN one.temperature >= s.fever_threshold THEN 1 ELSE 0 END
      FROM sites s WHERE s.id = one.site_id;
    END LOOP;
    RETURN NULL;
  END IF;
  INSERT INTO registration_hour_deltas (hour, site_id, decision, reasons, n, fevers)
  SELECT hour, site_id, decision, reasons, sum(n), sum(fevers) FROM (
    SELECT """ + _NEW + """) x
  GROUP BY hour, site_id, decision, reasons;
  RETURN NULL;
END $$"""
_PG_TRIGGERS = (
    _PG_INSERT,
    _pg_function("registration_hours_count_old", [_OLD]),
    # An update (an override) takes the old row's counts away and adds the new one's;
    # an update that changes nothing counted nets to nothing and adds no row.
    _pg_function("registration_hours_count", [_OLD, _NEW]),
    """CREATE FUNCTION registration_hours_truncate() RETURNS trigger LANGUAGE plpgsql AS $$
       BEGIN DELETE FROM registration_hour_deltas; DELETE FROM registration_hours;
       RETURN NULL; END $$""",
    """CREATE TRIGGER registration_hours_insert AFTER INSERT ON registrations
       REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT
       EXECUTE FUNCTION registration_hours_count_new()""",
    """CREATE TRIGGER registration_hours_update AFTER UPDATE ON registrations
       REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT
       EXECUTE FUNCTION registration_hours_count()""",
    """CREATE TRIGGER registration_hours_delete AFTER DELETE ON registrations
       REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT
       EXECUTE FUNCTION registration_hours_count_old()""",
    """CREATE TRIGGER registration_hours_truncate AFTER TRUNCATE ON registrations
       FOR EACH STATEMENT EXECUTE FUNCTION registration_hours_truncate()""",
)

# SQLite: row triggers (one writer at a time). Hours as SQLAlchemy stores datetimes
# ('YYYY-MM-DD HH:00:00.000000', UTC), whether the row was stored with ' ' or 'T'.
_SQLITE_HOUR = ("substr({r}.occurred_at, 1, 10) || ' ' || substr({r}.occurred_at, 12, 2)"
                " || ':00:00.000000'")
_SQLITE_ROW = f"""INSERT INTO registration_hour_deltas (hour, site_id, decision, reasons, n,
    fevers) SELECT {_SQLITE_HOUR}, {{r}}.site_id, {{r}}.decision,
    CASE WHEN {{r}}.decision = 'deny' THEN {{r}}.reasons ELSE '' END, {{sign}},
    coalesce((SELECT CASE WHEN {{r}}.temperature >= s.fever_threshold THEN {{sign}} ELSE 0 END
              FROM sites s WHERE s.id = {{r}}.site_id), 0);"""
_SQLITE_TRIGGERS = (
    f"""CREATE TRIGGER registration_hours_insert AFTER INSERT ON registrations BEGIN
        {_SQLITE_ROW.format(r='NEW', sign=1)} END""",
    f"""CREATE TRIGGER registration_hours_update AFTER UPDATE OF occurred_at, site_id,
        decision, reasons, temperature ON registrations BEGIN
        {_SQLITE_ROW.format(r='OLD', sign=-1)} {_SQLITE_ROW.format(r='NEW', sign=1)} END""",
    f"""CREATE TRIGGER registration_hours_delete AFTER DELETE ON registrations BEGIN
        {_SQLITE_ROW.format(r='OLD', sign=-1)} END""",
)


def _key_columns() -> list[sa.Column[object]]:
    return [sa.Column('hour', UTCDateTime(timezone=True), nullable=False),
            sa.Column('site_id', sa.Uuid(), nullable=False),
            sa.Column('decision', sa.String(8), nullable=False),
            sa.Column('reasons', sa.Text(), nullable=False),
            sa.Column('n', sa.BigInteger(), nullable=False),
            sa.Column('fevers', sa.BigInteger(), nullable=False)]


def upgrade() -> None:
    op.create_table(
        'registration_hours', *_key_columns(),
        sa.PrimaryKeyConstraint('hour', 'site_id', 'decision', 'reasons',
                                name=op.f('pk_registration_hours')))
    op.create_table(
        'registration_hour_deltas',
        sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'),
                  autoincrement=True, nullable=False),
        *_key_columns(),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_registration_hour_deltas')))
    op.create_index('ix_registration_hour_deltas_hour', 'registration_hour_deltas', ['hour'])
    postgres = op.get_bind().dialect.name == "postgresql"
    if postgres:
        # A queue: every fold deletes all its rows. Vacuumed after every 1,000 dead rows,
        # not 20% of a table that is nearly always empty, or each read of the deltas
        # walks the pages of those already folded.
        op.execute("ALTER TABLE registration_hour_deltas SET (autovacuum_vacuum_threshold"
                   " = 1000, autovacuum_vacuum_scale_factor = 0,"
                   " autovacuum_analyze_threshold = 1000, autovacuum_analyze_scale_factor = 0)")
    for statement in (_PG_TRIGGERS if postgres else _SQLITE_TRIGGERS):
        op.execute(statement)
    if postgres:
        op.execute(f"""
            INSERT INTO registration_hours (hour, site_id, decision, reasons, n, fevers)
            SELECT hour, site_id, decision, reasons, sum(n), sum(fevers) FROM (
              SELECT {_PG_ROW.format(sign=1, rows='registrations')}
              WHERE r.occurred_at >= now() - interval '{KEEP_DAYS} days') x
            GROUP BY 1, 2, 3, 4""")
    else:
        op.execute(f"""
            INSERT INTO registration_hours (hour, site_id, decision, reasons, n, fevers)
            SELECT {_SQLITE_HOUR.format(r='r')}, r.site_id, r.decision,
                   CASE WHEN r.decision = 'deny' THEN r.reasons ELSE '' END, count(*),
                   sum(CASE WHEN r.temperature >= s.fever_threshold THEN 1 ELSE 0 END)
            FROM registrations r JOIN sites s ON s.id = r.site_id
            WHERE r.occurred_at >= datetime('now', '-{KEEP_DAYS} days')
            GROUP BY 1, 2, 3, 4""")


def downgrade() -> None:
    postgres = op.get_bind().dialect.name == "postgresql"
    for name in ("insert", "update", "delete", "truncate"):
        if postgres or name != "truncate":
            op.execute(f"DROP TRIGGER IF EXISTS registration_hours_{name}"
                       + (" ON registrations" if postgres else ""))
    if postgres:
        op.execute("DROP FUNCTION IF EXISTS registration_hours_count(),"
                   " registration_hours_count_new(), registration_hours_count_old(),"
                   " registration_hours_truncate()")
    op.drop_index('ix_registration_hour_deltas_hour', table_name='registration_hour_deltas')
    op.drop_table('registration_hour_deltas')
    op.drop_table('registration_hours')
