"""supplies: items, lots, depots, the stock ledger, balances and transfers

Revision ID: e8a4c2d6f1b3
Revises: e8b2f4a61c07
Create Date: 2026-12-03 17:55:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from passtrace.core.db import UTCDateTime

revision = 'e8a4c2d6f1b3'
down_revision = 'e8b2f4a61c07'
branch_labels = None
depends_on = None


def _id() -> sa.Column:
    return sa.Column('id', sa.Uuid(), nullable=False)


def _created() -> sa.Column:
    return sa.Column('created_at', UTCDateTime(timezone=True), nullable=False)


def upgrade() -> None:
    op.create_table(
        'supply_items', _id(), _created(),
        sa.Column('name', sa.String(80), nullable=False),
        sa.Column('category', sa.String(16), nullable=False),
        sa.Column('unit', sa.String(16), nullable=False),
        sa.Column('pack_size', sa.Integer(), nullable=False),
        sa.Column('shelf_life_days', sa.Integer(), nullable=True),
        sa.Column('lead_time_days', sa.Integer(), nullable=False),
        sa.Column('safety_days', sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_supply_items')),
        sa.UniqueConstraint('name', name=op.f('uq_supply_items_name')))
    op.create_table(
        'supply_lots', _id(), _created(),
        sa.Column('item_id', sa.Uuid(), nullable=False),
        sa.Column('lot_number', sa.String(40), nullable=False),
        sa.Column('expires_on', sa.Date(), nullable=False),
        sa.ForeignKeyConstraint(['item_id'], ['supply_items.id'],
                                name=op.f('fk_supply_lots_item_id_supply_items')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_supply_lots')),
        sa.UniqueConstraint('item_id', 'lot_number',
                            name=op.f('uq_supply_lots_item_id')))
    op.create_table(
        'supply_depots', _id(), _created(),
        sa.Column('code', sa.String(40), nullable=False),
        sa.Column('name', sa.String(80), nullable=False),
        sa.Column('kind', sa.String(24), nullable=False),
        sa.Column('area_code', sa.String(12), nullable=False),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_supply_depots')),
        sa.UniqueConstraint('code', name=op.f('uq_supply_depots_code')))
    op.create_index('ix_supply_depots_area', 'supply_depots', ['area_code'])
    op.create_table(
        'supply_balances', _id(),
        sa.Column('depot_id', sa.Uuid(), nullable=False),
        sa.Column('item_id', sa.Uuid(), nullable=False),
        sa.Column('lot_id', sa.Uuid(), nullable=False),
        sa.Column('quantity', sa.Integer(), nullable=False),
        sa.Column('updated_at', UTCDateTime(timezone=True), nullable=False),
        sa.CheckConstraint('quantity >= 0',
                           name=op.f('ck_supply_balances_quantity_not_negative')),
        sa.ForeignKeyConstraint(['depot_id'], ['supply_depots.id'],
                                name=op.f('fk_supply_balances_depot_id_supply_depots')),
        sa.ForeignKeyConstraint(['item_id'], ['supply_items.id'],
                                name=op.f('fk_supply_balances_item_id_supply_items')),
        sa.ForeignKeyConstraint(['lot_id'], ['supply_lots.id'],
                                name=op.f('fk_supply_balances_lot_id_supply_lots')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_supply_balances')),
        sa.UniqueConstraint('depot_id', 'lot_id',
                            name=op.f('uq_supply_balances_depot_id')))
    op.create_index('ix_supply_balances_depot_item', 'supply_balances',
                    ['depot_id', 'item_id'])
    op.create_table(
        'supply_transfers', _id(), _created(),
        sa.Column('from_depot_id', sa.Uuid(), nullable=False),
        sa.Column('to_depot_id', sa.Uuid(), nullable=False),
        sa.Column('item_id', sa.Uuid(), nullable=False),
        sa.Column('lot_id', sa.Uuid(), nullable=False),
        sa.Column('quantity', sa.Integer(), nullable=False),
        sa.Column('state', sa.String(12), nullable=False),
        sa.Column('received_quantity', sa.Integer(), nullable=True),
        sa.Column('discrepancy', sa.Integer(), nullable=True),
        sa.Column('received_at', UTCDateTime(timezone=True), nullable=True),
        sa.Column('sent_by', sa.Uuid(), nullable=True),
        sa.Column('received_by', sa.Uuid(), nullable=True),
        sa.ForeignKeyConstraint(['from_depot_id'], ['supply_depots.id'],
                                name=op.f('fk_supply_transfers_from_depot_id_supply_depots')),
        sa.ForeignKeyConstraint(['to_depot_id'], ['supply_depots.id'],
                                name=op.f('fk_supply_transfers_to_depot_id_supply_depots')),
        sa.ForeignKeyConstraint(['item_id'], ['supply_items.id'],
                                name=op.f('fk_supply_transfers_item_id_supply_items')),
        sa.ForeignKeyConstraint(['lot_id'], ['supply_lots.id'],
                                name=op.f('fk_supply_transfers_lot_id_supply_lots')),
        sa.ForeignKeyConstraint(['sent_by'], ['users.id'],
                                name=op.f('fk_supply_transfers_sent_by_users')),
        sa.ForeignKeyConstraint(['received_by'], ['users.id'],
                                name=op.f('fk_supply_transfers_received_by_users')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_supply_transfers')))
    op.create_index('ix_supply_transfers_to', 'supply_transfers', ['to_depot_id', 'state'])
    op.create_table(
        'supply_ledger', _id(), _created(),
        sa.Column('depot_id', sa.Uuid(), nullable=False),
        sa.Column('item_id', sa.Uuid(), nullable=False),
        sa.Column('lot_id', sa.Uuid(), nullable=False),
        sa.Column('kind', sa.String(16), nullable=False),
        sa.Column('quantity', sa.Integer(), nullable=False),
        sa.Column('counterparty', sa.String(80), nullable=False),
        sa.Column('reason', sa.String(200), nullable=False),
        sa.Column('transfer_id', sa.Uuid(), nullable=True),
        sa.Column('actor_id', sa.Uuid(), nullable=True),
        sa.ForeignKeyConstraint(['depot_id'], ['supply_depots.id'],
                                name=op.f('fk_supply_ledger_depot_id_supply_depots')),
        sa.ForeignKeyConstraint(['item_id'], ['supply_items.id'],
                                name=op.f('fk_supply_ledger_item_id_supply_items')),
        sa.ForeignKeyConstraint(['lot_id'], ['supply_lots.id'],
                                name=op.f('fk_supply_ledger_lot_id_supply_lots')),
        sa.ForeignKeyConstraint(['transfer_id'], ['supply_transfers.id'],
                                name=op.f('fk_supply_ledger_transfer_id_supply_transfers')),
        sa.ForeignKeyConstraint(['actor_id'], ['users.id'],
                                name=op.f('fk_supply_ledger_actor_id_users')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_supply_ledger')))
    op.create_index('ix_supply_ledger_depot_lot', 'supply_ledger', ['depot_id', 'lot_id'])
    op.create_index('ix_supply_ledger_depot_item_time', 'supply_ledger',
                    ['depot_id', 'item_id', 'created_at'])
    op.create_table(
        'supply_requests', _id(), _created(),
        sa.Column('depot_id', sa.Uuid(), nullable=False),
        sa.Column('item_id', sa.Uuid(), nullable=False),
        sa.Column('quantity', sa.Integer(), nullable=False),
        sa.Column('priority', sa.String(10), nullable=False),
        sa.Column('needed_by', sa.Date(), nullable=False),
        sa.Column('justification', sa.String(500), nullable=False),
        sa.Column('state', sa.String(16), nullable=False),
        sa.Column('approved_quantity', sa.Integer(), nullable=True),
        sa.Column('decision_reason', sa.String(500), nullable=False),
        sa.Column('requested_by', sa.Uuid(), nullable=True),
        sa.Column('decided_by', sa.Uuid(), nullable=True),
        sa.Column('decided_at', UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(['depot_id'], ['supply_depots.id'],
                                name=op.f('fk_supply_requests_depot_id_supply_depots')),
        sa.ForeignKeyConstraint(['item_id'], ['supply_items.id'],
                                name=op.f('fk_supply_requests_item_id_supply_items')),
        sa.ForeignKeyConstraint(['requested_by'], ['users.id'],
                                name=op.f('fk_supply_requests_requested_by_users')),
        sa.ForeignKeyConstraint(['decided_by'], ['users.id'],
                                name=op.f('fk_supply_requests_decided_by_users')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_supply_requests')))
    op.create_index('ix_supply_requests_state_item', 'supply_requests', ['state', 'item_id'])
    op.create_index('ix_supply_requests_depot', 'supply_requests', ['depot_id', 'created_at'])


def downgrade() -> None:
    for name in ('supply_requests', 'supply_ledger', 'supply_transfers', 'supply_balances', 'supply_depots',
                 'supply_lots', 'supply_items'):
        op.drop_table(name)
