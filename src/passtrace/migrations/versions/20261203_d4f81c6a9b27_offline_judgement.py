"""registrations: the device's own decision beside the server's, and the disagreement flag

Revision ID: d4f81c6a9b27
Revises: 5c5d768f8bba
Create Date: 2026-12-03 07:40:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = 'd4f81c6a9b27'
down_revision = '5c5d768f8bba'
branch_labels = None
depends_on = None

FLAGGED = sa.text("disagreement IS NOT NULL")


def upgrade() -> None:
    # Rows stored before this revision were never judged again: no device decision kept,
    # no flag (NULL), as for rows decided online.
    with op.batch_alter_table('registrations') as batch:
        batch.add_column(sa.Column('device_decision', sa.String(length=8), nullable=True))
        batch.add_column(sa.Column('device_reasons', sa.JSON(), nullable=True))
        batch.add_column(sa.Column('disagreement', sa.String(length=32), nullable=True))
    op.create_index('ix_registrations_disagreement', 'registrations',
                    ['site_id', 'occurred_at'], postgresql_where=FLAGGED,
                    sqlite_where=FLAGGED)


def downgrade() -> None:
    op.drop_index('ix_registrations_disagreement', table_name='registrations')
    with op.batch_alter_table('registrations') as batch:
        batch.drop_column('disagreement')
        batch.drop_column('device_reasons')
        batch.drop_column('device_decision')
