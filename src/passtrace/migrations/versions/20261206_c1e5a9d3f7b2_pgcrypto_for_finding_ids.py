"""PostgreSQL: the pgcrypto extension, for SHA-1 in verification's finding ids

Verification stores its findings from the statement that finds them (tracing/
verify_sql.STORE): a finding's id is the UUIDv5 of its report, class, stop and
registration (tracing/verify.finding_id), and PostgreSQL has no SHA-1 of its own.
pgcrypto's `digest` gives the same ids as Python, so a finding keeps the id it had
when it was stored from Python. pgcrypto ships with PostgreSQL (contrib) and is a
trusted extension (PostgreSQL 13+): a role with CREATE on the database may create it.
Where this role may not, the migration goes on without it and verification makes the
ids in Python instead (slower: verify_sql.pgcrypto_digest finds no extension), and says
so here. SQLite: nothing.

Revision ID: c1e5a9d3f7b2
Revises: b8d4f6a2c0e3
Create Date: 2026-12-06 08:00:00
"""

from __future__ import annotations

import logging

from alembic import op
from sqlalchemy.exc import DBAPIError

revision = 'c1e5a9d3f7b2'
down_revision = 'b8d4f6a2c0e3'
branch_labels = None
depends_on = None

log = logging.getLogger("alembic.runtime.migration")


def upgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name != "postgresql":
        return
    savepoint = bind.begin_nested()
    try:
        bind.exec_driver_sql("CREATE EXTENSION IF NOT EXISTS pgcrypto")
        savepoint.commit()
    except DBAPIError as exc:
        savepoint.rollback()
        log.warning("pgcrypto could not be created (%s): trajectory verification will make "
                    "finding ids in Python, which is slower. A superuser or the database "
                    "owner can run CREATE EXTENSION pgcrypto later.", exc.orig)


def downgrade() -> None:
    # Left in place: another part of the database may have come to use it meanwhile.
    pass
