"""sms_bind_codes: one-time codes texted to the phone on file, to bind an account

Revision ID: b7e2c9a41f03
Revises: e5b1d7c40a93
Create Date: 2026-12-02 20:20:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import passtrace.core.db

revision = 'b7e2c9a41f03'
down_revision = 'e5b1d7c40a93'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'sms_bind_codes',
        sa.Column('user_id', sa.Uuid(), nullable=False),
        sa.Column('person_id', sa.Uuid(), nullable=False),
        sa.Column('code_hash', sa.String(length=64), nullable=False),
        sa.Column('source_kind', sa.String(length=16), nullable=True),
        sa.Column('source_id', sa.Uuid(), nullable=True),
        sa.Column('expires_at', passtrace.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column('failed_tries', sa.Integer(), nullable=False),
        sa.Column('used_at', passtrace.core.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column('id', sa.Uuid(), nullable=False),
        sa.Column('created_at', passtrace.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['person_id'], ['people.id'],
                                name=op.f('fk_sms_bind_codes_person_id_people'),
                                ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['user_id'], ['users.id'],
                                name=op.f('fk_sms_bind_codes_user_id_users'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_sms_bind_codes')),
        sa.UniqueConstraint('user_id', 'person_id', name=op.f('uq_sms_bind_codes_user_id')),
    )
    op.create_index(op.f('ix_sms_bind_codes_person_id'), 'sms_bind_codes', ['person_id'],
                    unique=False)


def downgrade() -> None:
    op.drop_index(op.f('ix_sms_bind_codes_person_id'), table_name='sms_bind_codes')
    op.drop_table('sms_bind_codes')
