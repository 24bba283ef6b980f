"""enterprises: the per-enterprise tolerance of trajectory verification

Revision ID: 8e2f5b71c0d9
Revises: 4f0f3fed12c5
Create Date: 2026-12-03 08:45:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '8e2f5b71c0d9'
down_revision = '4f0f3fed12c5'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('enterprises') as batch:
        batch.add_column(sa.Column('verify_tolerance_minutes', sa.SmallInteger(),
                                   nullable=False, server_default='30'))


def downgrade() -> None:
    with op.batch_alter_table('enterprises') as batch:
        batch.drop_column('verify_tolerance_minutes')
