"""people: leave a fifth of each page free (PostgreSQL fillfactor 80)

A declared county changes the stored status of hundreds of thousands of people at
once. On full pages each UPDATE writes a new row version on another page and an entry
in every index of people (four: id, ID hash, phone hash, legacy phone mask): 9 of
424,116 status updates were HOT in benchmarks/warnings.py. With room on the page the
new version stays there and no index is touched (status is in no index). Pages
written from now on keep the room; a table rewrite (VACUUM FULL, or a reload) gives
it to the pages already there. SQLite has no such setting.

Revision ID: e1f2a3b4c5d6
Revises: e3b7c1d9a5f2
Create Date: 2026-12-05 00:00:00
"""

from __future__ import annotations

from alembic import op

revision = 'e1f2a3b4c5d6'
down_revision = 'e3b7c1d9a5f2'
branch_labels = None
depends_on = None


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("ALTER TABLE people SET (fillfactor = 80)")


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("ALTER TABLE people RESET (fillfactor)")
