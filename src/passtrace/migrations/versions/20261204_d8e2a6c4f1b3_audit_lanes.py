"""audit lanes: side chains for hot paths beside the main chain (audit/lanes.py)

Every existing entry is on the main chain (lane 0), whose hashes do not change. The
position is unique per lane instead of over the whole log. SQLite's batch mode rebuilds
the table, so its append-only triggers are put back after it.

Revision ID: d8e2a6c4f1b3
Revises: b7d1e3f5a902
Create Date: 2026-12-04 20:40:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = 'd8e2a6c4f1b3'
down_revision = 'b7d1e3f5a902'
branch_labels = None
depends_on = None


def _sqlite_triggers(create: bool) -> None:
    for event in ("UPDATE", "DELETE"):
        name = f"audit_entries_no_{event.lower()}"
        op.execute(f"DROP TRIGGER IF EXISTS {name}")
        if create:
            op.execute(f"CREATE TRIGGER {name} BEFORE {event} ON audit_entries "
                       "BEGIN SELECT RAISE(ABORT, 'audit_entries is append-only'); END")


def upgrade() -> None:
    sqlite = op.get_bind().dialect.name == "sqlite"
    if sqlite:
        _sqlite_triggers(create=False)
    with op.batch_alter_table('audit_entries', schema=None) as batch_op:
        batch_op.add_column(sa.Column('lane', sa.SmallInteger(), server_default='0',
                                      nullable=False))
        batch_op.drop_constraint('uq_audit_entries_seq', type_='unique')
        batch_op.create_unique_constraint('uq_audit_entries_lane_seq', ['lane', 'seq'])
    if sqlite:
        _sqlite_triggers(create=True)


def downgrade() -> None:
    # Only a log without side-lane entries goes back: their positions would collide.
    sqlite = op.get_bind().dialect.name == "sqlite"
    if sqlite:
        _sqlite_triggers(create=False)
    with op.batch_alter_table('audit_entries', schema=None) as batch_op:
        batch_op.drop_constraint('uq_audit_entries_lane_seq', type_='unique')
        batch_op.create_unique_constraint('uq_audit_entries_seq', ['seq'])
        batch_op.drop_column('lane')
    if sqlite:
        _sqlite_triggers(create=True)
