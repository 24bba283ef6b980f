"""retention: an index on the column that dates each kind the retention job deletes

Without them every batch ("the oldest 500 rows before the cutoff") would scan the
whole table, holding the batch's transaction (and the audit chain lock) for as long.

Revision ID: a7e3c91d5f20
Revises: b7e2c9a41f03
Create Date: 2026-12-02 20:20:00
"""

from __future__ import annotations

from alembic import op

revision = 'a7e3c91d5f20'
down_revision = 'b7e2c9a41f03'
branch_labels = None
depends_on = None

INDEXES = (
    ("ix_registrations_occurred_at", "registrations", "occurred_at"),
    ("ix_outings_back_at", "outings", "back_at"),
    ("ix_daily_reports_report_date", "daily_reports", "report_date"),
    ("ix_visits_visit_date", "visits", "visit_date"),
    ("ix_deliveries_created_at", "deliveries", "created_at"),
    ("ix_notices_created_at", "notices", "created_at"),
    ("ix_auth_sessions_expires_at", "auth_sessions", "expires_at"),
)


def upgrade() -> None:
    for name, table, column in INDEXES:
        op.create_index(name, table, [column])


def downgrade() -> None:
    for name, table, _column in INDEXES:
        op.drop_index(name, table_name=table)
