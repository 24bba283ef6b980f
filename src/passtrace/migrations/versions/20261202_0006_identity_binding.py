"""identity: person claims per source, claim codes, sign-up attempt counts, one account
per person, proofed identity

Revision ID: 20261202_identity
Revises: 20261202_outbox
Create Date: 2026-12-02 18:55:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import passtrace.core.db

revision = '20261202_identity'
down_revision = '20261202_outbox'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('person_claims',
    sa.Column('person_id', sa.Uuid(), nullable=False),
    sa.Column('source_kind', sa.String(length=16), nullable=False),
    sa.Column('source_id', sa.Uuid(), nullable=False),
    sa.Column('name_enc', sa.LargeBinary(), nullable=False),
    sa.Column('name_masked', sa.String(length=32), nullable=False),
    sa.Column('phone_enc', sa.LargeBinary(), nullable=True),
    sa.Column('phone_masked', sa.String(length=16), nullable=True),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('created_at', passtrace.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['person_id'], ['people.id'],
                            name=op.f('fk_person_claims_person_id_people'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_person_claims')),
    sa.UniqueConstraint('person_id', 'source_kind', 'source_id',
                        name=op.f('uq_person_claims_person_id'))
    )
    op.create_index(op.f('ix_person_claims_person_id'), 'person_claims', ['person_id'],
                    unique=False)
    op.create_table('claim_codes',
    sa.Column('code_hash', sa.String(length=64), nullable=False),
    sa.Column('person_id', sa.Uuid(), nullable=False),
    sa.Column('source_kind', sa.String(length=16), nullable=False),
    sa.Column('source_id', sa.Uuid(), nullable=False),
    sa.Column('issued_by', sa.Uuid(), nullable=True),
    sa.Column('expires_at', passtrace.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('used_at', passtrace.core.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('used_by', sa.Uuid(), nullable=True),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('created_at', passtrace.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['issued_by'], ['users.id'],
                            name=op.f('fk_claim_codes_issued_by_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['person_id'], ['people.id'],
                            name=op.f('fk_claim_codes_person_id_people'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['used_by'], ['users.id'],
                            name=op.f('fk_claim_codes_used_by_users'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_claim_codes')),
    sa.UniqueConstraint('code_hash', name=op.f('uq_claim_codes_code_hash'))
    )
    op.create_index(op.f('ix_claim_codes_person_id'), 'claim_codes', ['person_id'],
                    unique=False)
    op.create_table('identity_attempts',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('key_hash', sa.String(length=64), nullable=False),
    sa.Column('window_start', passtrace.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('count', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_identity_attempts')),
    sa.UniqueConstraint('key_hash', 'window_start', name=op.f('uq_identity_attempts_key_hash'))
    )
    op.create_index(op.f('ix_identity_attempts_window_start'), 'identity_attempts',
                    ['window_start'], unique=False)
    with op.batch_alter_table('people') as batch_op:
        batch_op.add_column(sa.Column('identity_proofed_at',
                                      passtrace.core.db.UTCDateTime(timezone=True),
                                      nullable=True))
    with op.batch_alter_table('users') as batch_op:
        batch_op.create_unique_constraint(batch_op.f('uq_users_person_id'), ['person_id'])


def downgrade() -> None:
    with op.batch_alter_table('users') as batch_op:
        batch_op.drop_constraint(batch_op.f('uq_users_person_id'), type_='unique')
    with op.batch_alter_table('people') as batch_op:
        batch_op.drop_column('identity_proofed_at')
    op.drop_index(op.f('ix_identity_attempts_window_start'), table_name='identity_attempts')
    op.drop_table('identity_attempts')
    op.drop_index(op.f('ix_claim_codes_person_id'), table_name='claim_codes')
    op.drop_table('claim_codes')
    op.drop_index(op.f('ix_person_claims_person_id'), table_name='person_claims')
    op.drop_table('person_claims')
