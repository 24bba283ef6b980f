"""appeal escalation: status_appeals.escalated_at (an undecided appeal past its deadline is
escalated once to the officials of the next area up)

Revision ID: c7d1e9a3b5f2
Revises: c4f1a9d2e7b5
Create Date: 2026-12-04 17:05:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from passtrace.core.db import UTCDateTime

revision = 'c7d1e9a3b5f2'
down_revision = 'c4f1a9d2e7b5'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('status_appeals') as batch:
        batch.add_column(sa.Column('escalated_at', UTCDateTime(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('status_appeals') as batch:
        batch.drop_column('escalated_at')
