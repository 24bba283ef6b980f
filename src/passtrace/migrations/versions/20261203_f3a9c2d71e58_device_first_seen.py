"""device_syncs: when a checkpoint phone was first seen (the site page names it by that)

Revision ID: f3a9c2d71e58
Revises: 8e2b5f9c1a47
Create Date: 2026-12-03 13:45:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import passtrace.core.db

revision = 'f3a9c2d71e58'
down_revision = '8e2b5f9c1a47'
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Nullable and filled in by the application: SQLite cannot add a column whose default
    # is the current time. Phones already known were first seen no later than last time.
    op.add_column('device_syncs', sa.Column('first_seen_at',
                                            passtrace.core.db.UTCDateTime(timezone=True),
                                            nullable=True))
    op.execute("UPDATE device_syncs SET first_seen_at = last_seen_at")


def downgrade() -> None:
    with op.batch_alter_table('device_syncs') as batch:
        batch.drop_column('first_seen_at')
