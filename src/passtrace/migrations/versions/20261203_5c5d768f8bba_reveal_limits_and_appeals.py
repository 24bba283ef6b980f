"""people: reveal_counts (the per-user hourly reveal limit)

Revision ID: 5c5d768f8bba
Revises: a7c3e9f1b2d4
Create Date: 2026-12-03 07:45:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import passtrace.core.db

revision = '5c5d768f8bba'
down_revision = 'a7c3e9f1b2d4'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'reveal_counts',
        sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
        sa.Column('user_id', sa.Uuid(), nullable=False),
        sa.Column('window_start', passtrace.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column('count', sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(['user_id'], ['users.id'],
                                name=op.f('fk_reveal_counts_user_id_users'), ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_reveal_counts')),
        sa.UniqueConstraint('user_id', 'window_start',
                            name=op.f('uq_reveal_counts_user_id_window_start')),
    )
    op.create_index(op.f('ix_reveal_counts_window_start'), 'reveal_counts', ['window_start'])


def downgrade() -> None:
    op.drop_index(op.f('ix_reveal_counts_window_start'), table_name='reveal_counts')
    op.drop_table('reveal_counts')
