"""audit chain: every audit entry carries its position, the previous hash and its hash

Existing entries are chained in id order. The append-only triggers are lifted for the
length of this migration (it runs as the table's owner) and put back, plus one that
refuses TRUNCATE on PostgreSQL.

Revision ID: c3a1f2d4e5b6
Revises: 0005
Create Date: 2026-12-02 19:10:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import passtrace.core.db
from passtrace.audit import chain

revision = 'c3a1f2d4e5b6'
down_revision = '0005'
branch_labels = None
depends_on = None

_SEQ = sa.BigInteger().with_variant(sa.Integer(), 'sqlite')
# The columns as stored, typed as the model types them, so hashes match audit verify.
_entries = sa.table(
    'audit_entries', sa.column('id', _SEQ), sa.column('at', passtrace.core.db.UTCDateTime()),
    sa.column('actor_user_id', sa.Uuid()), sa.column('actor_name', sa.String()),
    sa.column('action', sa.String()), sa.column('resource_type', sa.String()),
    sa.column('resource_id', sa.String()), sa.column('subject_person_id', sa.Uuid()),
    sa.column('reason', sa.Text()), sa.column('detail', sa.JSON()), sa.column('ip', sa.String()),
    sa.column('seq', _SEQ), sa.column('prev_hash', sa.String()), sa.column('hash', sa.String()))


def _sqlite_triggers(create: bool) -> None:
    for event in ("UPDATE", "DELETE"):
        name = f"audit_entries_no_{event.lower()}"
        op.execute(f"DROP TRIGGER IF EXISTS {name}")
        if create:
            op.execute(f"CREATE TRIGGER {name} BEFORE {event} ON audit_entries "
                       "BEGIN SELECT RAISE(ABORT, 'audit_entries is append-only'); END")


def _chain_existing_rows() -> None:
    conn = op.get_bind()
    head = (0, chain.GENESIS)
    last_id = None
    while True:  # in batches of ids, so a large log is not held in memory
        stmt = sa.select(_entries).order_by(_entries.c.id).limit(5000)
        if last_id is not None:
            stmt = stmt.where(_entries.c.id > last_id)
        rows = [dict(r) for r in conn.execute(stmt).mappings()]
        if not rows:
            return
        head = chain.link(rows, head)
        conn.execute(sa.update(_entries).where(_entries.c.id == sa.bindparam('row_id'))
                     .values(seq=sa.bindparam('seq'), prev_hash=sa.bindparam('prev_hash'),
                             hash=sa.bindparam('hash')),
                     [{"row_id": r["id"], "seq": r["seq"], "prev_hash": r["prev_hash"],
                       "hash": r["hash"]} for r in rows])
        last_id = rows[-1]["id"]


def upgrade() -> None:
    postgres = op.get_bind().dialect.name == "postgresql"
    if postgres:
        op.execute("ALTER TABLE audit_entries DISABLE TRIGGER audit_entries_append_only")
    else:
        _sqlite_triggers(create=False)
    op.add_column('audit_entries', sa.Column('seq', _SEQ, nullable=True))
    op.add_column('audit_entries', sa.Column('prev_hash', sa.String(length=64), nullable=True))
    op.add_column('audit_entries', sa.Column('hash', sa.String(length=64), nullable=True))
    _chain_existing_rows()
    with op.batch_alter_table('audit_entries', schema=None) as batch_op:
        batch_op.alter_column('seq', existing_type=_SEQ, nullable=False)
        batch_op.alter_column('prev_hash', existing_type=sa.String(length=64), nullable=False)
        batch_op.alter_column('hash', existing_type=sa.String(length=64), nullable=False)
        batch_op.create_unique_constraint(batch_op.f('uq_audit_entries_seq'), ['seq'])
    if postgres:
        op.execute("ALTER TABLE audit_entries ENABLE TRIGGER audit_entries_append_only")
        # Row triggers do not see TRUNCATE; this one refuses it even for the owner.
        op.execute("CREATE TRIGGER audit_entries_no_truncate BEFORE TRUNCATE ON audit_entries "
                   "FOR EACH STATEMENT EXECUTE FUNCTION audit_entries_append_only()")
    else:
        _sqlite_triggers(create=True)  # SQLite's batch mode rebuilt the table without them


def downgrade() -> None:
    postgres = op.get_bind().dialect.name == "postgresql"
    if postgres:
        op.execute("DROP TRIGGER IF EXISTS audit_entries_no_truncate ON audit_entries")
    else:
        _sqlite_triggers(create=False)
    with op.batch_alter_table('audit_entries', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('uq_audit_entries_seq'), type_='unique')
        batch_op.drop_column('hash')
        batch_op.drop_column('prev_hash')
        batch_op.drop_column('seq')
    if not postgres:
        _sqlite_triggers(create=True)
