"""registrations: partitioned by day on PostgreSQL; external ids unique through their own table

PostgreSQL: registrations becomes PARTITION BY RANGE (id), one partition per UTC day of
the id's UUIDv7 time (registrations.partitions), plus a DEFAULT partition. The rows
are moved: the old table is renamed, the partitioned one made with the same columns,
the day partitions from the oldest row's day (at most 62 days back: older rows go to
the default partition, which the retention job empties in batches) to 2 days ahead,
the rows copied, the old table dropped, and its indexes and foreign keys made again
on the new one (taken from the catalog, so exactly what the table had).

Both databases: registrations.external_id loses its unique constraint (a partitioned
table cannot have it) and registration_external_ids keeps the uniqueness, filled from
the imported rows already stored.

Revision ID: e8b2c4d6f013
Revises: 7c2e9a4d1f63
Create Date: 2026-12-03 17:10:00
"""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, time, timedelta

import sqlalchemy as sa
from alembic import op

revision = 'e8b2c4d6f013'
down_revision = '7c2e9a4d1f63'
branch_labels = None
depends_on = None

_BACK_DAYS, _AHEAD_DAYS = 62, 2


def upgrade() -> None:
    op.create_table(
        'registration_external_ids',
        sa.Column('external_id', sa.String(length=64), nullable=False),
        sa.Column('registration_id', sa.Uuid(), nullable=False),
        sa.Column('occurred_at', sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint('external_id', name=op.f('pk_registration_external_ids')))
    op.create_index('ix_registration_external_ids_occurred_at', 'registration_external_ids',
                    ['occurred_at'], unique=False)
    op.execute("INSERT INTO registration_external_ids (external_id, registration_id, "
               "occurred_at) SELECT external_id, id, occurred_at FROM registrations "
               "WHERE external_id IS NOT NULL")
    if op.get_bind().dialect.name != 'postgresql':
        with op.batch_alter_table('registrations', schema=None) as batch_op:
            batch_op.drop_constraint('uq_registrations_external_id', type_='unique')
        return
    op.execute("ALTER TABLE registrations DROP CONSTRAINT uq_registrations_external_id")
    _rebuild(partitioned=True)


def downgrade() -> None:
    if op.get_bind().dialect.name == 'postgresql':
        _rebuild(partitioned=False)
    with op.batch_alter_table('registrations', schema=None) as batch_op:
        batch_op.create_unique_constraint('uq_registrations_external_id', ['external_id'])
    op.drop_index('ix_registration_external_ids_occurred_at',
                  table_name='registration_external_ids')
    op.drop_table('registration_external_ids')


def _rebuild(*, partitioned: bool) -> None:
    """Move registrations into a new table (partitioned by day, or one plain table)."""
    bind = op.get_bind()
    # Nothing writes while the rows move (a deployment migrates before it serves).
    op.execute("LOCK TABLE registrations IN ACCESS EXCLUSIVE MODE")
    indexes = bind.execute(sa.text(
        "SELECT indexname, indexdef FROM pg_indexes WHERE schemaname = current_schema() "
        "AND tablename = 'registrations' AND indexname <> 'pk_registrations'")).all()
    foreign = bind.execute(sa.text(
        "SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint "
        "WHERE conrelid = 'registrations'::regclass AND contype = 'f'")).all()
    for name, _ in indexes:
        op.execute(f"DROP INDEX {name}")
    op.execute("ALTER TABLE registrations RENAME TO registrations_moving")
    op.execute("ALTER TABLE registrations_moving RENAME CONSTRAINT pk_registrations "
               "TO pk_registrations_moving")
    op.execute("CREATE TABLE registrations (LIKE registrations_moving INCLUDING DEFAULTS)"
               + (" PARTITION BY RANGE (id)" if partitioned else ""))
    if partitioned:
        # (uuid has no min(); the primary key's index answers both ends.)
        low = bind.scalar(sa.text("SELECT id FROM registrations_moving ORDER BY id LIMIT 1"))
        today = datetime.now(UTC).date()
        first = today if low is None else min(today, max(_id_day(low), today - timedelta(
            days=_BACK_DAYS)))
        day = first
        while day <= today + timedelta(days=_AHEAD_DAYS):
            op.execute(f"CREATE TABLE registrations_p{day:%Y%m%d} PARTITION OF registrations "
                       f"FOR VALUES FROM ('{_bound(day)}') TO ('{_bound(day + timedelta(days=1))}')")
            day += timedelta(days=1)
        op.execute("CREATE TABLE registrations_default PARTITION OF registrations DEFAULT")
    op.execute("INSERT INTO registrations SELECT * FROM registrations_moving")
    # CASCADE: the partitions of the table being taken back to one table.
    op.execute("DROP TABLE registrations_moving CASCADE")
    op.execute("ALTER TABLE registrations ADD CONSTRAINT pk_registrations PRIMARY KEY (id)")
    for name, definition in foreign:
        op.execute(f"ALTER TABLE registrations ADD CONSTRAINT {name} {definition}")
    for _, definition in indexes:
        op.execute(definition)
    op.execute("ANALYZE registrations")


def _id_day(value: object) -> date:
    # The UTC day of a UUIDv7's first 48 bits (milliseconds since 1970).
    ms = int(str(value).replace('-', '')[:12], 16)
    return datetime.fromtimestamp(ms / 1000, tz=UTC).date()


def _bound(day: date) -> str:
    ms = int(datetime.combine(day, time(), tzinfo=UTC).timestamp() * 1000)
    # The first 48 bits are the milliseconds; PostgreSQL wants the 8-4-4-4-12 layout.
    return str(uuid.UUID(f"{ms:012x}70008000000000000000"))
