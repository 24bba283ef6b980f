"""supplies: forecast rates per item x driver, and one opening entry per depot x lot

Revision ID: c4f1a9d2e7b5
Revises: b5d1e7a3c902
Create Date: 2026-12-04 16:45:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from passtrace.core.db import UTCDateTime

revision = 'c4f1a9d2e7b5'
down_revision = 'b5d1e7a3c902'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'supply_forecast_rates',
        sa.Column('id', sa.Uuid(), nullable=False),
        sa.Column('item_id', sa.Uuid(), nullable=False),
        sa.Column('driver', sa.String(24), nullable=False),
        sa.Column('rate', sa.Float(), nullable=False),
        sa.Column('periods_per_day', sa.Integer(), nullable=False),
        sa.Column('updated_at', UTCDateTime(timezone=True), nullable=False),
        sa.Column('updated_by', sa.Uuid(), nullable=True),
        sa.ForeignKeyConstraint(['item_id'], ['supply_items.id'],
                                name=op.f('fk_supply_forecast_rates_item_id_supply_items')),
        sa.ForeignKeyConstraint(['updated_by'], ['users.id'],
                                name=op.f('fk_supply_forecast_rates_updated_by_users')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_supply_forecast_rates')),
        sa.UniqueConstraint('item_id', 'driver',
                            name=op.f('uq_supply_forecast_rates_item_id')))
    # Re-importing an opening-stock sheet (or two imports at once) adds nothing.
    op.create_index('uq_supply_ledger_opening', 'supply_ledger', ['depot_id', 'lot_id'],
                    unique=True, sqlite_where=sa.text("kind = 'opening'"),
                    postgresql_where=sa.text("kind = 'opening'"))


def downgrade() -> None:
    op.drop_index('uq_supply_ledger_opening', table_name='supply_ledger')
    op.drop_table('supply_forecast_rates')
