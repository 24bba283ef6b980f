"""supplies: form submissions (a double-tapped supplies form saves once)

Revision ID: b7d1e3f5a902
Revises: c7d1e9a3b5f2
Create Date: 2026-12-04 16:40:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from passtrace.core.db import UTCDateTime

revision = 'b7d1e3f5a902'
down_revision = 'c7d1e9a3b5f2'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'supply_form_submissions',
        sa.Column('id', sa.Uuid(), nullable=False),
        sa.Column('kind', sa.String(24), nullable=False),
        sa.Column('result_url', sa.String(200), nullable=False),
        sa.Column('created_at', UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_supply_form_submissions')))


def downgrade() -> None:
    op.drop_table('supply_form_submissions')
