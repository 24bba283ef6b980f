"""passes: keep the signed pass text encrypted (token -> token_enc)

The "PT1:" text is a bearer credential: whoever holds it passes the checkpoint. It
was stored in clear, so a database dump or backup handed out every valid pass. Each
existing text is encrypted with the personal-data key and bound to its pass row
(core.pii, associated data "passes/token_enc/<id>"), then the clear column is
dropped. The keys are the ones `passtrace db upgrade` runs with (the environment's);
`passtrace keys rotate-pii` later moves the column to a new key like the others.

Revision ID: e34d47b2035e
Revises: e8b2d4f6a1c3
Create Date: 2026-12-03 17:20:00
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import sqlalchemy as sa
from alembic import context, op

from passtrace.core.migrate import data_vault
from passtrace.core.pii import binding

revision = 'e34d47b2035e'
down_revision = 'e8b2d4f6a1c3'
branch_labels = None
depends_on = None

BATCH = 1000
passes = sa.table('passes', sa.column('id', sa.Uuid()), sa.column('token', sa.Text()),
                  sa.column('token_enc', sa.LargeBinary()))


def _ad(pass_id: object) -> bytes:
    # What Pass.pii_ad("token_enc") gives (PII_BIND = ("id",)); the model may change later.
    return binding('passes', 'token_enc', [pass_id])


def _convert(source: sa.ColumnClause[Any],
             change: Callable[[Any, Any], dict[str, Any]]) -> None:
    """Rewrite every non-empty `source` value in batches, in primary-key order."""
    conn = op.get_bind()
    after = None
    while True:
        query = (sa.select(passes.c.id, source).where(source.is_not(None))
                 .order_by(passes.c.id).limit(BATCH))
        if after is not None:
            query = query.where(passes.c.id > after)
        rows = conn.execute(query).all()
        if not rows:
            return
        for pass_id, value in rows:
            conn.execute(passes.update().where(passes.c.id == pass_id)
                         .values(change(pass_id, value)))
        after = rows[-1][0]


def upgrade() -> None:
    op.add_column('passes', sa.Column('token_enc', sa.LargeBinary(), nullable=True))
    conn = op.get_bind()
    if conn.execute(sa.select(passes.c.id).where(passes.c.token.is_not(None))
                    .limit(1)).first() is not None:
        vault = data_vault(context.config)
        _convert(passes.c.token, lambda pid, text: {
            'token_enc': vault.encrypt(text, ad=_ad(pid)), 'token': None})
    # Plain ALTER TABLE ... DROP COLUMN on both databases (SQLite >= 3.35): a batch
    # rebuild would drop and recreate passes under the rows that reference it.
    op.drop_column('passes', 'token')


def downgrade() -> None:
    op.add_column('passes', sa.Column('token', sa.Text(), nullable=True))
    conn = op.get_bind()
    if conn.execute(sa.select(passes.c.id).where(passes.c.token_enc.is_not(None))
                    .limit(1)).first() is not None:
        vault = data_vault(context.config)
        _convert(passes.c.token_enc, lambda pid, blob: {
            'token': vault.decrypt(blob, ad=_ad(pid)), 'token_enc': None})
    op.drop_column('passes', 'token_enc')
