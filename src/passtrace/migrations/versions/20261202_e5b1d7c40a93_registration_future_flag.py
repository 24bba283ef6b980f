"""registrations: future_flagged (occurred after the server received it)

Revision ID: e5b1d7c40a93
Revises: 20261202_identity
Create Date: 2026-12-02 19:15:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = 'e5b1d7c40a93'
down_revision = '20261202_identity'
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Existing rows were never checked: false, as the model's server default says.
    with op.batch_alter_table('registrations') as batch:
        batch.add_column(sa.Column('future_flagged', sa.Boolean(), nullable=False,
                                   server_default=sa.false()))


def downgrade() -> None:
    with op.batch_alter_table('registrations') as batch:
        batch.drop_column('future_flagged')
