"""reports: report_stops indexed by upper(ref), mode for same-train/flight contacts

Tracing's same-trip query (tracing.ties.trips_many) asks for the stops whose upper(ref)
is one of the case's train or flight numbers on the case's dates. With no index on the
number it read every report of those dates and all their stops (issue 13); with this
expression index it reads the stops of those trains and flights only, then each one's
report by its primary key to check the date. The index's expression is the query's
own, upper(ref), so both SQLite and PostgreSQL use it without a change to the query.

Revision ID: e3b7c1d9a5f2
Revises: d4a5b6c7e8f9
Create Date: 2026-12-04 23:55:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = 'e3b7c1d9a5f2'
down_revision = 'd4a5b6c7e8f9'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index('ix_report_stops_trip_ref', 'report_stops',
                    [sa.text('upper(ref)'), 'mode'])


def downgrade() -> None:
    op.drop_index('ix_report_stops_trip_ref', table_name='report_stops')
