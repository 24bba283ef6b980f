"""dashboard: active staff counted per enterprise, kept by triggers (staff_counts);
open alerts indexed by area, rule and age

Revision ID: e3f5a7c9b1d2
Revises: e1f2a3b4c5d6
Create Date: 2026-12-04 23:50:00

The dashboard's report rate divides by the active staff of the viewer's enterprises; it
counted the employees table on every request (O(staff): 1M employees at a province's
size). Every write to employees now appends the change of its enterprises' active
counts to staff_count_deltas in the same transaction (append-only, like the
registration deltas: two HR admins never wait on one counter row); the job
dashboard.fold-hours folds them into staff_counts, one row per enterprise. Existing
staff are counted here, after the triggers exist (creating a trigger locks the table
against writes until this migration commits).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = 'e3f5a7c9b1d2'
down_revision = 'e1f2a3b4c5d6'
branch_labels = None
depends_on = None

_ACTIVE = "SELECT enterprise_id, {sign} AS n FROM {rows} WHERE status = 'active'"


def _pg_function(name: str, parts: list[str]) -> str:
    rows = " UNION ALL ".join(parts)
    return f"""
CREATE FUNCTION {name}() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO staff_count_deltas (enterprise_id, n)
  SELECT enterprise_id, sum(n) FROM ({rows}) x GROUP BY enterprise_id HAVING sum(n) <> 0;
  RETURN NULL;
END $$"""


_NEW = _ACTIVE.format(sign=1, rows="new_rows")
_OLD = _ACTIVE.format(sign=-1, rows="old_rows")
_PG = (
    _pg_function("staff_counts_new", [_NEW]),
    _pg_function("staff_counts_old", [_OLD]),
    _pg_function("staff_counts_change", [_OLD, _NEW]),
    """CREATE FUNCTION staff_counts_truncate() RETURNS trigger LANGUAGE plpgsql AS $$
       BEGIN DELETE FROM staff_count_deltas; DELETE FROM staff_counts;
       RETURN NULL; END $$""",
    """CREATE TRIGGER staff_counts_insert AFTER INSERT ON employees
       REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT
       EXECUTE FUNCTION staff_counts_new()""",
    """CREATE TRIGGER staff_counts_update AFTER UPDATE ON employees
       REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT
       EXECUTE FUNCTION staff_counts_change()""",
    """CREATE TRIGGER staff_counts_delete AFTER DELETE ON employees
       REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT
       EXECUTE FUNCTION staff_counts_old()""",
    """CREATE TRIGGER staff_counts_truncate AFTER TRUNCATE ON employees
       FOR EACH STATEMENT EXECUTE FUNCTION staff_counts_truncate()""",
)
_SQLITE_ROW = ("INSERT INTO staff_count_deltas (enterprise_id, n)"
               " SELECT {r}.enterprise_id, {sign} WHERE {r}.status = 'active';")
_SQLITE = (
    f"""CREATE TRIGGER staff_counts_insert AFTER INSERT ON employees BEGIN
        {_SQLITE_ROW.format(r='NEW', sign=1)} END""",
    f"""CREATE TRIGGER staff_counts_update AFTER UPDATE OF status, enterprise_id ON employees
        BEGIN {_SQLITE_ROW.format(r='OLD', sign=-1)} {_SQLITE_ROW.format(r='NEW', sign=1)} END""",
    f"""CREATE TRIGGER staff_counts_delete AFTER DELETE ON employees BEGIN
        {_SQLITE_ROW.format(r='OLD', sign=-1)} END""",
)


def upgrade() -> None:
    op.create_table(
        'staff_counts',
        sa.Column('enterprise_id', sa.Uuid(), nullable=False),
        sa.Column('n', sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint('enterprise_id', name=op.f('pk_staff_counts')))
    op.create_table(
        'staff_count_deltas',
        sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'),
                  autoincrement=True, nullable=False),
        sa.Column('enterprise_id', sa.Uuid(), nullable=False),
        sa.Column('n', sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_staff_count_deltas')))
    postgres = op.get_bind().dialect.name == "postgresql"
    if postgres:  # a queue every fold empties (as registration_hour_deltas)
        op.execute("ALTER TABLE staff_count_deltas SET (autovacuum_vacuum_threshold"
                   " = 1000, autovacuum_vacuum_scale_factor = 0,"
                   " autovacuum_analyze_threshold = 1000, autovacuum_analyze_scale_factor = 0)")
    for statement in (_PG if postgres else _SQLITE):
        op.execute(statement)
    # The dashboard's open alerts by rule and age read from this index alone.
    op.create_index('ix_alerts_open_queue', 'alerts', ['queue_area', 'rule_code', 'created_at'],
                    postgresql_ops={'queue_area': 'varchar_pattern_ops'},
                    postgresql_where=sa.text("status IN ('open', 'acknowledged')"),
                    sqlite_where=sa.text("status IN ('open', 'acknowledged')"))
    op.execute("""INSERT INTO staff_counts (enterprise_id, n)
                  SELECT enterprise_id, count(*) FROM employees WHERE status = 'active'
                  GROUP BY enterprise_id""")


def downgrade() -> None:
    postgres = op.get_bind().dialect.name == "postgresql"
    for name in ("insert", "update", "delete", "truncate"):
        if postgres or name != "truncate":
            op.execute(f"DROP TRIGGER IF EXISTS staff_counts_{name}"
                       + (" ON employees" if postgres else ""))
    if postgres:
        op.execute("DROP FUNCTION IF EXISTS staff_counts_new(), staff_counts_old(),"
                   " staff_counts_change(), staff_counts_truncate()")
    op.drop_index('ix_alerts_open_queue', table_name='alerts')
    op.drop_table('staff_count_deltas')
    op.drop_table('staff_counts')
