"""outbox: messages that leave the process (webhook, SMS), delivered by the job runner

Reminders no longer track their own webhook delivery (webhook_status, attempts): the
outbox row does.

Revision ID: 20261202_outbox
Revises: c3a1f2d4e5b6
Create Date: 2026-12-02 19:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import passtrace.core.db

revision = '20261202_outbox'
down_revision = 'c3a1f2d4e5b6'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('outbox_messages',
    sa.Column('channel', sa.String(length=16), nullable=False),
    sa.Column('dedupe_key', sa.String(length=200), nullable=False),
    sa.Column('payload', sa.JSON(), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('next_attempt_at', passtrace.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('processed_at', passtrace.core.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('failed_at', passtrace.core.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('last_error', sa.Text(), nullable=True),
    sa.Column('lease_until', passtrace.core.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('lease_token', sa.Uuid(), nullable=True),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('created_at', passtrace.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_outbox_messages')),
    sa.UniqueConstraint('dedupe_key', name=op.f('uq_outbox_messages_dedupe_key'))
    )
    op.create_index('ix_outbox_messages_due', 'outbox_messages',
                    ['processed_at', 'failed_at', 'next_attempt_at'], unique=False)
    with op.batch_alter_table('report_reminders', schema=None) as batch_op:
        batch_op.drop_column('webhook_status')
        batch_op.drop_column('attempts')


def downgrade() -> None:
    with op.batch_alter_table('report_reminders', schema=None) as batch_op:
        batch_op.add_column(sa.Column('attempts', sa.Integer(), nullable=False,
                                      server_default='0'))
        batch_op.add_column(sa.Column('webhook_status', sa.String(length=8), nullable=False,
                                      server_default='none'))
    op.drop_index('ix_outbox_messages_due', table_name='outbox_messages')
    op.drop_table('outbox_messages')
