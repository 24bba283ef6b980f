"""analytics: analytics_runs (who ran which population job, its progress and result)

Revision ID: a7c4e2f91d35
Revises: e8b2d6f4a1c3
Create Date: 2026-12-03 17:20:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import passtrace.core.db

revision = 'a7c4e2f91d35'
down_revision = 'e8b2d6f4a1c3'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'analytics_runs',
        sa.Column('id', sa.Uuid(), nullable=False),
        sa.Column('job', sa.String(length=24), nullable=False),
        sa.Column('params', sa.JSON(), nullable=False),
        sa.Column('engine', sa.String(length=8), nullable=False),
        sa.Column('status', sa.String(length=8), nullable=False),
        sa.Column('progress', sa.SmallInteger(), nullable=False),
        sa.Column('requested_by', sa.Uuid(), nullable=True),
        sa.Column('requested_at', passtrace.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column('started_at', passtrace.core.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column('finished_at', passtrace.core.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column('rows', sa.Integer(), nullable=True),
        sa.Column('error', sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(['requested_by'], ['users.id'],
                                name=op.f('fk_analytics_runs_requested_by_users')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_analytics_runs')),
    )
    op.create_index('ix_analytics_runs_status', 'analytics_runs', ['status', 'requested_at'])
    op.create_index('ix_analytics_runs_requested_at', 'analytics_runs', ['requested_at'])


def downgrade() -> None:
    op.drop_index('ix_analytics_runs_requested_at', table_name='analytics_runs')
    op.drop_index('ix_analytics_runs_status', table_name='analytics_runs')
    op.drop_table('analytics_runs')
