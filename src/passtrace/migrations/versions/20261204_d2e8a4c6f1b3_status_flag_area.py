"""health: status_history.flag_id indexed; status_flags.area_code; people.phone_hash

Deleting or clearing flags looked each one up in status_history by flag_id, which had
no index (a sequential scan per flag: minutes for a declared county's 200,000). A flag
keeps the area its reason arose in (the alert's, or for a status set by hand the
person's area where the deciding official is responsible), so district counts can
include statuses set by hand. Officials find a person by the phone's keyed hash, as by
the ID number, instead of scanning the masked phones (the people stored before keep a
NULL hash: the search still reads those by their masked phone).

Revision ID: d2e8a4c6f1b3
Revises: d8e2a6c4f1b3
Create Date: 2026-12-04 20:45:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = 'd2e8a4c6f1b3'
down_revision = 'd8e2a6c4f1b3'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index('ix_status_history_flag', 'status_history', ['flag_id'])
    op.add_column('people', sa.Column('phone_hash', sa.String(64), nullable=True))
    op.create_index('ix_people_phone_hash', 'people', ['phone_hash'])
    op.create_index('ix_people_phone_masked_legacy', 'people', ['phone_masked'],
                    postgresql_where=sa.text('phone_hash IS NULL'),
                    sqlite_where=sa.text('phone_hash IS NULL'))
    op.add_column('status_flags', sa.Column('area_code', sa.String(12), nullable=True))
    # The flags raised by alerts so far: their alert's area (the dedupe key names it).
    op.execute(
        "UPDATE status_flags SET area_code = (SELECT a.area_code FROM alerts a "
        "WHERE a.id = CAST(substr(status_flags.dedupe_key, 7) AS BIGINT)) "
        "WHERE dedupe_key LIKE 'alert:%'")


def downgrade() -> None:
    op.drop_column('status_flags', 'area_code')
    op.drop_index('ix_people_phone_masked_legacy', table_name='people')
    op.drop_index('ix_people_phone_hash', table_name='people')
    op.drop_column('people', 'phone_hash')
    op.drop_index('ix_status_history_flag', table_name='status_history')
