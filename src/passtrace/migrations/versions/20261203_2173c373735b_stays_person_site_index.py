"""stays: an index on (person_hash, site_id, started_at) for write-time upkeep

Every allowed in/out at a gate or venue ends the stay of that person at that site
containing its time (registrations/stays.py). With only (person_hash, started_at) and
(site_id, started_at) the planner may scan a busy site's whole day of stays.

Revision ID: 2173c373735b
Revises: 8e2f5b71c0d9
Create Date: 2026-12-03 09:00:00
"""

from __future__ import annotations

from alembic import op

revision = '2173c373735b'
down_revision = '8e2f5b71c0d9'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('stays', schema=None) as batch_op:
        batch_op.create_index("ix_stays_person_site_time",
                              ["person_hash", "site_id", "started_at"],
                              unique=False)


def downgrade() -> None:
    with op.batch_alter_table('stays', schema=None) as batch_op:
        batch_op.drop_index('ix_stays_person_site_time')
