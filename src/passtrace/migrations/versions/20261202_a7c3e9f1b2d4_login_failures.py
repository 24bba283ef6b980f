"""accounts: login_failures (the shared login throttle), users.must_change_password

Revision ID: a7c3e9f1b2d4
Revises: a7e3c91d5f20
Create Date: 2026-12-02 20:20:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import passtrace.core.db

revision = 'a7c3e9f1b2d4'
down_revision = 'a7e3c91d5f20'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'login_failures',
        sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
        sa.Column('key_hash', sa.String(length=64), nullable=False),
        sa.Column('failures', sa.Integer(), nullable=False),
        sa.Column('last_failure_at', passtrace.core.db.UTCDateTime(timezone=True),
                  nullable=False),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_login_failures')),
        sa.UniqueConstraint('key_hash', name=op.f('uq_login_failures_key_hash')),
    )
    op.create_index(op.f('ix_login_failures_last_failure_at'), 'login_failures',
                    ['last_failure_at'])
    with op.batch_alter_table('users') as batch:
        batch.add_column(sa.Column('must_change_password', sa.Boolean(), nullable=False,
                                   server_default=sa.false()))


def downgrade() -> None:
    with op.batch_alter_table('users') as batch:
        batch.drop_column('must_change_password')
    op.drop_index(op.f('ix_login_failures_last_failure_at'), table_name='login_failures')
    op.drop_table('login_failures')
