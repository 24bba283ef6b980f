"""passes: trust_lists (signed trust lists; the root private key leaves the database)

The root key rows of earlier releases stay in signing_keys until
`passtrace keys export-root FILE` writes the key to a file and deletes them.

Revision ID: 24ffeca01cca
Revises: d4f81c6a9b27
Create Date: 2026-12-03 07:45:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import passtrace.core.db

revision = '24ffeca01cca'
down_revision = 'd4f81c6a9b27'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'trust_lists',
        sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'),
                  autoincrement=True, nullable=False),
        sa.Column('version', sa.BigInteger(), nullable=False),
        sa.Column('root_kid', sa.String(length=16), nullable=False),
        sa.Column('root_alg', sa.String(length=8), nullable=False),
        sa.Column('root_public_der', sa.LargeBinary(), nullable=False),
        sa.Column('listing', sa.JSON(), nullable=False),
        sa.Column('created_at', passtrace.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_trust_lists')),
        sa.UniqueConstraint('version', name=op.f('uq_trust_lists_version')),
    )


def downgrade() -> None:
    op.drop_table('trust_lists')
