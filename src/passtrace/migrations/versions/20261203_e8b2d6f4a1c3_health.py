"""health: status flags, history, four-eyes proposals, appeals

A flag is one reason a person is yellow or red (a rule, a manual change, an appeal);
people.status is derived from the live flags and kept in step by the health service.
A status set by hand needs two officials (status_proposals, CHECK four_eyes); a person
appeals one flag once (status_appeals.flag_id unique).

Revision ID: e8b2d6f4a1c3
Revises: c5e1a7f3b914
Create Date: 2026-12-03 17:01:19.351286
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import passtrace.core.db

revision = 'e8b2d6f4a1c3'
down_revision = 'c5e1a7f3b914'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('status_flags',
    sa.Column('person_id', sa.Uuid(), nullable=False),
    sa.Column('level', sa.String(length=8), nullable=False),
    sa.Column('source', sa.String(length=48), nullable=False),
    sa.Column('reason', sa.String(length=48), nullable=False),
    sa.Column('evidence', sa.JSON(), nullable=False),
    sa.Column('starts_at', passtrace.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('until', passtrace.core.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('dedupe_key', sa.String(length=160), nullable=False),
    sa.Column('cleared_at', passtrace.core.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('cleared_by', sa.Uuid(), nullable=True),
    sa.Column('cleared_reason', sa.String(length=48), nullable=True),
    sa.Column('settled_at', passtrace.core.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('created_at', passtrace.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['cleared_by'], ['users.id'], name=op.f('fk_status_flags_cleared_by_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['person_id'], ['people.id'], name=op.f('fk_status_flags_person_id_people'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_status_flags')),
    sa.UniqueConstraint('dedupe_key', name=op.f('uq_status_flags_dedupe_key'))
    )
    with op.batch_alter_table('status_flags', schema=None) as batch_op:
        batch_op.create_index('ix_status_flags_person', ['person_id', 'cleared_at'], unique=False)
        batch_op.create_index('ix_status_flags_until', ['until', 'settled_at'], unique=False)

    op.create_table('status_proposals',
    sa.Column('person_id', sa.Uuid(), nullable=False),
    sa.Column('level', sa.String(length=8), nullable=False),
    sa.Column('reason', sa.String(length=500), nullable=False),
    sa.Column('until', passtrace.core.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('proposed_by', sa.Uuid(), nullable=False),
    sa.Column('state', sa.String(length=10), nullable=False),
    sa.Column('decided_by', sa.Uuid(), nullable=True),
    sa.Column('decided_at', passtrace.core.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('decision_note', sa.String(length=500), nullable=False),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('created_at', passtrace.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.CheckConstraint('decided_by IS NULL OR decided_by <> proposed_by', name=op.f('ck_status_proposals_four_eyes')),
    sa.ForeignKeyConstraint(['decided_by'], ['users.id'], name=op.f('fk_status_proposals_decided_by_users')),
    sa.ForeignKeyConstraint(['person_id'], ['people.id'], name=op.f('fk_status_proposals_person_id_people'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['proposed_by'], ['users.id'], name=op.f('fk_status_proposals_proposed_by_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_status_proposals'))
    )
    with op.batch_alter_table('status_proposals', schema=None) as batch_op:
        batch_op.create_index('ix_status_proposals_person', ['person_id', 'created_at'], unique=False)
        batch_op.create_index('ix_status_proposals_state', ['state', 'created_at'], unique=False)

    op.create_table('status_appeals',
    sa.Column('flag_id', sa.Uuid(), nullable=False),
    sa.Column('person_id', sa.Uuid(), nullable=False),
    sa.Column('statement', sa.Text(), nullable=False),
    sa.Column('due_at', passtrace.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('state', sa.String(length=10), nullable=False),
    sa.Column('decided_by', sa.Uuid(), nullable=True),
    sa.Column('decided_at', passtrace.core.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('decision_reason', sa.String(length=500), nullable=False),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('created_at', passtrace.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['decided_by'], ['users.id'], name=op.f('fk_status_appeals_decided_by_users')),
    sa.ForeignKeyConstraint(['flag_id'], ['status_flags.id'], name=op.f('fk_status_appeals_flag_id_status_flags'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['person_id'], ['people.id'], name=op.f('fk_status_appeals_person_id_people'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_status_appeals')),
    sa.UniqueConstraint('flag_id', name=op.f('uq_status_appeals_flag_id'))
    )
    with op.batch_alter_table('status_appeals', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_status_appeals_person_id'), ['person_id'], unique=False)
        batch_op.create_index('ix_status_appeals_state', ['state', 'due_at'], unique=False)

    op.create_table('status_history',
    sa.Column('person_id', sa.Uuid(), nullable=False),
    sa.Column('at', passtrace.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('event', sa.String(length=16), nullable=False),
    sa.Column('flag_id', sa.Uuid(), nullable=True),
    sa.Column('reason', sa.String(length=48), nullable=False),
    sa.Column('before', sa.String(length=8), nullable=False),
    sa.Column('after', sa.String(length=8), nullable=False),
    sa.Column('actor_user_id', sa.Uuid(), nullable=True),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.ForeignKeyConstraint(['actor_user_id'], ['users.id'], name=op.f('fk_status_history_actor_user_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['flag_id'], ['status_flags.id'], name=op.f('fk_status_history_flag_id_status_flags'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['person_id'], ['people.id'], name=op.f('fk_status_history_person_id_people'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_status_history'))
    )
    with op.batch_alter_table('status_history', schema=None) as batch_op:
        batch_op.create_index('ix_status_history_person', ['person_id', 'at'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('status_history', schema=None) as batch_op:
        batch_op.drop_index('ix_status_history_person')

    op.drop_table('status_history')
    with op.batch_alter_table('status_appeals', schema=None) as batch_op:
        batch_op.drop_index('ix_status_appeals_state')
        batch_op.drop_index(batch_op.f('ix_status_appeals_person_id'))

    op.drop_table('status_appeals')
    with op.batch_alter_table('status_proposals', schema=None) as batch_op:
        batch_op.drop_index('ix_status_proposals_state')
        batch_op.drop_index('ix_status_proposals_person')

    op.drop_table('status_proposals')
    with op.batch_alter_table('status_flags', schema=None) as batch_op:
        batch_op.drop_index('ix_status_flags_until')
        batch_op.drop_index('ix_status_flags_person')

    op.drop_table('status_flags')
