"""communities: community_rule_changes (coercive tightening of outing rules) and
community_rule_appeals

Revision ID: b7d3e9a41f25
Revises: f3a9c2d71e58
Create Date: 2026-12-03 13:40:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import passtrace.core.db

revision = 'b7d3e9a41f25'
down_revision = 'f3a9c2d71e58'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'community_rule_changes',
        sa.Column('community_id', sa.Uuid(), nullable=False),
        sa.Column('changed_by', sa.Uuid(), nullable=False),
        sa.Column('reason_code', sa.String(length=24), nullable=False),
        sa.Column('reason', sa.Text(), nullable=False),
        sa.Column('before', sa.JSON(), nullable=False),
        sa.Column('after', sa.JSON(), nullable=False),
        sa.Column('tightened', sa.JSON(), nullable=False),
        sa.Column('id', sa.Uuid(), nullable=False),
        sa.Column('created_at', passtrace.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['community_id'], ['communities.id'],
                                name=op.f('fk_community_rule_changes_community_id_communities')),
        sa.ForeignKeyConstraint(['changed_by'], ['users.id'],
                                name=op.f('fk_community_rule_changes_changed_by_users')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_community_rule_changes')),
    )
    op.create_index('ix_community_rule_changes_community', 'community_rule_changes',
                    ['community_id', 'created_at'])
    op.create_table(
        'community_rule_appeals',
        sa.Column('change_id', sa.Uuid(), nullable=False),
        sa.Column('person_id', sa.Uuid(), nullable=False),
        sa.Column('filed_by', sa.Uuid(), nullable=False),
        sa.Column('text', sa.Text(), nullable=False),
        sa.Column('status', sa.String(length=10), nullable=False),
        sa.Column('decided_by', sa.Uuid(), nullable=True),
        sa.Column('decided_at', passtrace.core.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column('decision_reason', sa.Text(), nullable=True),
        sa.Column('id', sa.Uuid(), nullable=False),
        sa.Column('created_at', passtrace.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['change_id'], ['community_rule_changes.id'],
                                name=op.f('fk_community_rule_appeals_change_id_community_rule_changes'),
                                ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['person_id'], ['people.id'],
                                name=op.f('fk_community_rule_appeals_person_id_people'),
                                ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['filed_by'], ['users.id'],
                                name=op.f('fk_community_rule_appeals_filed_by_users'),
                                ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['decided_by'], ['users.id'],
                                name=op.f('fk_community_rule_appeals_decided_by_users')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_community_rule_appeals')),
        sa.UniqueConstraint('change_id', 'person_id',
                            name=op.f('uq_community_rule_appeals_change_id')),
    )
    op.create_index('ix_community_rule_appeals_status', 'community_rule_appeals', ['status'])


def downgrade() -> None:
    op.drop_index('ix_community_rule_appeals_status', table_name='community_rule_appeals')
    op.drop_table('community_rule_appeals')
    op.drop_index('ix_community_rule_changes_community', table_name='community_rule_changes')
    op.drop_table('community_rule_changes')
