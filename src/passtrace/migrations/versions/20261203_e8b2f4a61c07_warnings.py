"""warnings: risk-area lifts and scans, rule settings, alerts

area_risks (moved from reports to areas, owned by warnings) gains who lifted it, its
source (manual or an imported list) and when its recent visitors were scanned; existing
rows count as scanned (they were declared before the rules existed).

Revision ID: e8b2f4a61c07
Revises: e34d47b2035e
Create Date: 2026-12-03 17:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import passtrace.core.db

revision = 'e8b2f4a61c07'
down_revision = 'e34d47b2035e'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('area_risks') as batch:
        batch.add_column(sa.Column('source', sa.String(length=8), nullable=False,
                                   server_default='manual'))
        batch.add_column(sa.Column('lifted_at', passtrace.core.db.UTCDateTime(timezone=True),
                                   nullable=True))
        batch.add_column(sa.Column('lifted_by', sa.Uuid(), nullable=True))
        batch.add_column(sa.Column('scanned_at', passtrace.core.db.UTCDateTime(timezone=True),
                                   nullable=True))
        batch.create_foreign_key(op.f('fk_area_risks_lifted_by_users'), 'users',
                                 ['lifted_by'], ['id'])
    op.execute("UPDATE area_risks SET scanned_at = created_at")
    op.create_table(
        'warning_rules',
        sa.Column('code', sa.String(length=32), nullable=False),
        sa.Column('severity', sa.String(length=8), nullable=False),
        sa.Column('enabled', sa.Boolean(), nullable=False),
        sa.Column('params', sa.JSON(), nullable=False),
        sa.Column('updated_at', passtrace.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column('updated_by', sa.Uuid(), nullable=True),
        sa.ForeignKeyConstraint(['updated_by'], ['users.id'],
                                name=op.f('fk_warning_rules_updated_by_users')),
        sa.PrimaryKeyConstraint('code', name=op.f('pk_warning_rules')),
    )
    op.create_table(
        'alerts',
        sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'),
                  autoincrement=True, nullable=False),
        sa.Column('created_at', passtrace.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column('rule_code', sa.String(length=32), nullable=False),
        sa.Column('severity', sa.String(length=8), nullable=False),
        sa.Column('subject_kind', sa.String(length=8), nullable=False),
        sa.Column('subject_key', sa.String(length=64), nullable=False),
        sa.Column('person_hash', sa.String(length=64), nullable=True),
        sa.Column('subject_masked', sa.String(length=32), nullable=False),
        sa.Column('area_code', sa.String(length=12), nullable=False),
        sa.Column('queue_area', sa.String(length=12), nullable=False),
        sa.Column('day', sa.Date(), nullable=False),
        sa.Column('evidence', sa.JSON(), nullable=False),
        sa.Column('status', sa.String(length=12), nullable=False),
        sa.Column('assigned_to', sa.Uuid(), nullable=True),
        sa.Column('acknowledged_at', passtrace.core.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column('acknowledged_by', sa.Uuid(), nullable=True),
        sa.Column('closed_at', passtrace.core.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column('closed_by', sa.Uuid(), nullable=True),
        sa.Column('resolution', sa.String(length=12), nullable=True),
        sa.Column('note', sa.Text(), nullable=False),
        sa.Column('escalations', sa.SmallInteger(), nullable=False),
        sa.Column('escalated_at', passtrace.core.db.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(['assigned_to'], ['users.id'],
                                name=op.f('fk_alerts_assigned_to_users')),
        sa.ForeignKeyConstraint(['acknowledged_by'], ['users.id'],
                                name=op.f('fk_alerts_acknowledged_by_users')),
        sa.ForeignKeyConstraint(['closed_by'], ['users.id'],
                                name=op.f('fk_alerts_closed_by_users')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_alerts')),
        sa.UniqueConstraint('rule_code', 'subject_key', 'day', name='uq_alerts_dedupe'),
    )
    op.create_index('ix_alerts_area_status', 'alerts', ['queue_area', 'status', 'created_at'])
    op.create_index('ix_alerts_status_created', 'alerts', ['status', 'created_at'])
    op.create_index('ix_alerts_person', 'alerts', ['person_hash'])


def downgrade() -> None:
    op.drop_index('ix_alerts_person', table_name='alerts')
    op.drop_index('ix_alerts_status_created', table_name='alerts')
    op.drop_index('ix_alerts_area_status', table_name='alerts')
    op.drop_table('alerts')
    op.drop_table('warning_rules')
    with op.batch_alter_table('area_risks') as batch:
        batch.drop_constraint(op.f('fk_area_risks_lifted_by_users'), type_='foreignkey')
        batch.drop_column('scanned_at')
        batch.drop_column('lifted_by')
        batch.drop_column('lifted_at')
        batch.drop_column('source')
