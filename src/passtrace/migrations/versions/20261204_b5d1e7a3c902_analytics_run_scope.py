"""analytics: analytics_runs.area_scope (whose officials see a run in their history)

Revision ID: b5d1e7a3c902
Revises: e8a4c2d6f1b3
Create Date: 2026-12-04 17:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = 'b5d1e7a3c902'
down_revision = 'e8a4c2d6f1b3'
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Runs asked for before this column existed were not confined to an area: they
    # count as city-wide ("") and stay visible to city-wide officials and their
    # requester only.
    with op.batch_alter_table('analytics_runs') as batch:
        batch.add_column(sa.Column('area_scope', sa.String(length=12), nullable=False,
                                   server_default=''))
        batch.create_index('ix_analytics_runs_area_scope', ['area_scope', 'requested_at'])


def downgrade() -> None:
    with op.batch_alter_table('analytics_runs') as batch:
        batch.drop_index('ix_analytics_runs_area_scope')
        batch.drop_column('area_scope')
