"""tracing: case_contacts.evidence_counts (secondary contacts keep their evidence in summary)

A secondary contact (depth 2+) can be exposed through hundreds of registrations; its
row keeps a few example items in `evidence` and the count per kind here. NULL: the
row's `evidence` holds every item (close and general contacts).

Revision ID: e8b2d4f6a1c3
Revises: a7c4e2f91d35
Create Date: 2026-12-03 17:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = 'e8b2d4f6a1c3'
down_revision = 'a7c4e2f91d35'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('case_contacts') as batch:
        batch.add_column(sa.Column('evidence_counts', sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('case_contacts') as batch:
        batch.drop_column('evidence_counts')
