"""daily_reports: imported reports have no employer and may lack a temperature

Revision ID: 8e2b5f9c1a47
Revises: 2173c373735b
Create Date: 2026-12-03 08:50:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '8e2b5f9c1a47'
down_revision = '2173c373735b'
branch_labels = None
depends_on = None

FLAGGED = sa.text("flagged")
COLUMNS = (('employee_id', sa.Uuid()), ('enterprise_id', sa.Uuid()),
           ('department_id', sa.Uuid()), ('temperature', sa.Numeric(4, 1)))


def _set_nullable(nullable: bool) -> None:
    # SQLite rebuilds the table: its partial index is made again by hand, since
    # reflection does not keep the WHERE clause.
    op.drop_index('ix_daily_reports_flagged', table_name='daily_reports')
    with op.batch_alter_table('daily_reports') as batch:
        for name, kind in COLUMNS:
            batch.alter_column(name, existing_type=kind, nullable=nullable)
    op.create_index('ix_daily_reports_flagged', 'daily_reports',
                    ['enterprise_id', 'report_date'], postgresql_where=FLAGGED,
                    sqlite_where=FLAGGED)


def upgrade() -> None:
    _set_nullable(True)


def downgrade() -> None:
    # Imported reports (no employer) cannot survive the old schema.
    op.execute("DELETE FROM daily_reports WHERE employee_id IS NULL OR temperature IS NULL")
    _set_nullable(False)
