"""tracing: index case_contacts.via_contact_id (the cascading self-reference)

Deleting a case cascades to its contacts, and each deleted contact's secondary
contacts are found through via_contact_id: unindexed, that is a full scan per row.

Revision ID: c5e1a7f3b914
Revises: b7d3e9a41f25
Create Date: 2026-12-03 15:05:00
"""

from __future__ import annotations

from alembic import op

revision = 'c5e1a7f3b914'
down_revision = 'b7d3e9a41f25'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index('ix_case_contacts_via_contact', 'case_contacts', ['via_contact_id'],
                    unique=False)


def downgrade() -> None:
    op.drop_index('ix_case_contacts_via_contact', table_name='case_contacts')
