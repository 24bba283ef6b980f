"""people: reveal_counts (the hourly reveal limit); passes: coercive revocations, appeals,
mass revocation requests

Revision ID: 5c5d768f8bba
Revises: d41c7a9e2b60
Create Date: 2026-12-03 07:45:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import passtrace.core.db

revision = '5c5d768f8bba'
down_revision = 'd41c7a9e2b60'
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
                            name=op.f('uq_reveal_counts_user_id')),
    )
    op.create_index(op.f('ix_reveal_counts_window_start'), 'reveal_counts', ['window_start'])
    with op.batch_alter_table('passes') as batch:
        batch.add_column(sa.Column('revoke_reason_code', sa.String(length=24), nullable=True))
        batch.add_column(sa.Column('revoked_by', sa.Uuid(), nullable=True))
        batch.create_foreign_key(op.f('fk_passes_revoked_by_users'), 'users', ['revoked_by'],
                                 ['id'], ondelete='SET NULL')
    op.create_table(
        'pass_appeals',
        sa.Column('pass_id', sa.Uuid(), nullable=False),
        sa.Column('person_id', sa.Uuid(), nullable=False),
        sa.Column('filed_by', sa.Uuid(), nullable=False),
        sa.Column('text', sa.Text(), nullable=False),
        sa.Column('status', sa.String(length=10), nullable=False),
        sa.Column('decided_by', sa.Uuid(), nullable=True),
        sa.Column('decided_at', passtrace.core.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column('decision_reason', sa.Text(), nullable=True),
        sa.Column('reissued_pass_id', sa.Uuid(), nullable=True),
        sa.Column('id', sa.Uuid(), nullable=False),
        sa.Column('created_at', passtrace.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['pass_id'], ['passes.id'],
                                name=op.f('fk_pass_appeals_pass_id_passes'), ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['person_id'], ['people.id'],
                                name=op.f('fk_pass_appeals_person_id_people'),
                                ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['filed_by'], ['users.id'],
                                name=op.f('fk_pass_appeals_filed_by_users'), ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['decided_by'], ['users.id'],
                                name=op.f('fk_pass_appeals_decided_by_users')),
        sa.ForeignKeyConstraint(['reissued_pass_id'], ['passes.id'],
                                name=op.f('fk_pass_appeals_reissued_pass_id_passes'),
                                ondelete='SET NULL'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_pass_appeals')),
        sa.UniqueConstraint('pass_id', name=op.f('uq_pass_appeals_pass_id')),
    )
    op.create_index('ix_pass_appeals_status', 'pass_appeals', ['status'])
    op.create_table(
        'pass_mass_revocations',
        sa.Column('requested_by', sa.Uuid(), nullable=False),
        sa.Column('pass_ids', sa.JSON(), nullable=False),
        sa.Column('reason_code', sa.String(length=24), nullable=False),
        sa.Column('reason', sa.Text(), nullable=False),
        sa.Column('status', sa.String(length=10), nullable=False),
        sa.Column('decided_by', sa.Uuid(), nullable=True),
        sa.Column('decided_at', passtrace.core.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column('revoked_count', sa.Integer(), nullable=False),
        sa.Column('id', sa.Uuid(), nullable=False),
        sa.Column('created_at', passtrace.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['requested_by'], ['users.id'],
                                name=op.f('fk_pass_mass_revocations_requested_by_users')),
        sa.ForeignKeyConstraint(['decided_by'], ['users.id'],
                                name=op.f('fk_pass_mass_revocations_decided_by_users')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_pass_mass_revocations')),
    )
    op.create_index('ix_pass_mass_revocations_status', 'pass_mass_revocations',
                    ['status', 'created_at'])


def downgrade() -> None:
    op.drop_index('ix_pass_mass_revocations_status', table_name='pass_mass_revocations')
    op.drop_table('pass_mass_revocations')
    op.drop_index('ix_pass_appeals_status', table_name='pass_appeals')
    op.drop_table('pass_appeals')
    with op.batch_alter_table('passes') as batch:
        batch.drop_constraint(op.f('fk_passes_revoked_by_users'), type_='foreignkey')
        batch.drop_column('revoked_by')
        batch.drop_column('revoke_reason_code')
    op.drop_index(op.f('ix_reveal_counts_window_start'), table_name='reveal_counts')
    op.drop_table('reveal_counts')
