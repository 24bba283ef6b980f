"""PostgreSQL: the pgcrypto extension, for SHA-1 in verification's finding ids

Verification stores its findings from the statement that finds them (tracing/
verify_sql.STORE): a finding's id is the UUIDv5 of its report, class, stop and
registration (tracing/verify.finding_id), and PostgreSQL has no SHA-1 of its own.
pgcrypto's `digest` gives the same ids as Python, so a finding keeps the id it had
when it was stored from Python. pgcrypto ships with PostgreSQL (contrib) and is a
trusted extension (PostgreSQL 13+): a database owner may create it. SQLite: nothing.

Revision ID: c1e5a9d3f7b2
Revises: b8d4f6a2c0e3
Create Date: 2026-12-06 08:00:00
"""

from __future__ import annotations

from alembic import op

revision = 'c1e5a9d3f7b2'
down_revision = 'b8d4f6a2c0e3'
branch_labels = None
depends_on = None


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("CREATE EXTENSION IF NOT EXISTS pgcrypto")


def downgrade() -> None:
    # Left in place: another part of the database may have come to use it meanwhile.
    pass
