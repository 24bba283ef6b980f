"""area_risks.lift_reason: why a risk area was lifted, kept with the lift

Lifting was one click with an optional reason that reached only the audit entry. A lift
now needs a reason, stored on the row (the area's history shows it) as well as audited.
Rows lifted before keep NULL: their reason, if any, is in the audit log.

Revision ID: a7c3e5f1b9d2
Revises: f4c8a2e6b9d1
Create Date: 2026-12-06 04:30:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = 'a7c3e5f1b9d2'
down_revision = 'f4c8a2e6b9d1'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('area_risks') as batch:
        batch.add_column(sa.Column('lift_reason', sa.String(200), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('area_risks') as batch:
        batch.drop_column('lift_reason')
