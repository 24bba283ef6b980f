"""tracing: stays, cases, contacts, tasks, findings

Revision ID: d41c7a9e2b60
Revises: a7c3e9f1b2d4
Create Date: 2026-12-03 07:29:51.897383
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import passtrace.core.db

revision = 'd41c7a9e2b60'
down_revision = 'a7c3e9f1b2d4'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('stays',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('person_hash', sa.String(length=64), nullable=False),
    sa.Column('site_id', sa.Uuid(), nullable=False),
    sa.Column('started_at', passtrace.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('ended_at', passtrace.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('closed_by', sa.String(length=8), nullable=False),
    sa.Column('out_registration_id', sa.Uuid(), nullable=True),
    sa.ForeignKeyConstraint(['site_id'], ['sites.id'], name=op.f('fk_stays_site_id_sites')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_stays'))
    )
    with op.batch_alter_table('stays', schema=None) as batch_op:
        batch_op.create_index('ix_stays_person_time', ['person_hash', 'started_at'], unique=False)
        batch_op.create_index('ix_stays_site_time', ['site_id', 'started_at'], unique=False)
        batch_op.create_index('ix_stays_started_at', ['started_at'], unique=False)

    op.create_table('cases',
    sa.Column('person_id', sa.Uuid(), nullable=False),
    sa.Column('person_hash', sa.String(length=64), nullable=False),
    sa.Column('classification', sa.String(length=16), nullable=False),
    sa.Column('status', sa.String(length=8), nullable=False),
    sa.Column('onset_date', sa.Date(), nullable=True),
    sa.Column('sampling_date', sa.Date(), nullable=True),
    sa.Column('isolation_date', sa.Date(), nullable=True),
    sa.Column('window_start', passtrace.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('window_end', passtrace.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('window_minutes', sa.SmallInteger(), nullable=False),
    sa.Column('area_code', sa.String(length=12), nullable=False),
    sa.Column('source', sa.String(length=200), nullable=False),
    sa.Column('notes', sa.Text(), nullable=False),
    sa.Column('created_by', sa.Uuid(), nullable=True),
    sa.Column('closed_at', passtrace.core.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('created_at', passtrace.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['created_by'], ['users.id'], name=op.f('fk_cases_created_by_users')),
    sa.ForeignKeyConstraint(['person_id'], ['people.id'], name=op.f('fk_cases_person_id_people')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_cases'))
    )
    with op.batch_alter_table('cases', schema=None) as batch_op:
        batch_op.create_index('ix_cases_area_status', ['area_code', 'status'], unique=False)
        batch_op.create_index('ix_cases_person_hash', ['person_hash'], unique=False)

    op.create_table('case_contacts',
    sa.Column('case_id', sa.Uuid(), nullable=False),
    sa.Column('person_hash', sa.String(length=64), nullable=False),
    sa.Column('person_id', sa.Uuid(), nullable=True),
    sa.Column('kind', sa.String(length=10), nullable=False),
    sa.Column('depth', sa.SmallInteger(), nullable=False),
    sa.Column('via_contact_id', sa.Uuid(), nullable=True),
    sa.Column('first_exposure', passtrace.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('last_exposure', passtrace.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('quarantine_until', sa.Date(), nullable=False),
    sa.Column('area_code', sa.String(length=12), nullable=False),
    sa.Column('evidence', sa.JSON(), nullable=False),
    sa.Column('found_at', passtrace.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.ForeignKeyConstraint(['case_id'], ['cases.id'], name=op.f('fk_case_contacts_case_id_cases'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['person_id'], ['people.id'], name=op.f('fk_case_contacts_person_id_people')),
    sa.ForeignKeyConstraint(['via_contact_id'], ['case_contacts.id'], name=op.f('fk_case_contacts_via_contact_id_case_contacts'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_case_contacts')),
    sa.UniqueConstraint('case_id', 'person_hash', name=op.f('uq_case_contacts_case_id'))
    )
    with op.batch_alter_table('case_contacts', schema=None) as batch_op:
        batch_op.create_index('ix_case_contacts_person', ['person_hash'], unique=False)

    op.create_table('case_events',
    sa.Column('case_id', sa.Uuid(), nullable=False),
    sa.Column('at', passtrace.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('actor_user_id', sa.Uuid(), nullable=True),
    sa.Column('action', sa.String(length=16), nullable=False),
    sa.Column('changes', sa.JSON(), nullable=False),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.ForeignKeyConstraint(['actor_user_id'], ['users.id'], name=op.f('fk_case_events_actor_user_id_users')),
    sa.ForeignKeyConstraint(['case_id'], ['cases.id'], name=op.f('fk_case_events_case_id_cases'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_case_events'))
    )
    with op.batch_alter_table('case_events', schema=None) as batch_op:
        batch_op.create_index('ix_case_events_case', ['case_id', 'at'], unique=False)

    op.create_table('report_findings',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('report_id', sa.Uuid(), nullable=False),
    sa.Column('finding_class', sa.String(length=16), nullable=False),
    sa.Column('stop_seq', sa.SmallInteger(), nullable=True),
    sa.Column('registration_id', sa.Uuid(), nullable=True),
    sa.Column('tolerance_minutes', sa.SmallInteger(), nullable=False),
    sa.Column('detail', sa.JSON(), nullable=False),
    sa.Column('computed_at', passtrace.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['report_id'], ['daily_reports.id'], name=op.f('fk_report_findings_report_id_daily_reports'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_report_findings'))
    )
    with op.batch_alter_table('report_findings', schema=None) as batch_op:
        batch_op.create_index('ix_report_findings_report', ['report_id'], unique=False)

    op.create_table('tracing_tasks',
    sa.Column('contact_id', sa.Uuid(), nullable=False),
    sa.Column('area_code', sa.String(length=12), nullable=False),
    sa.Column('status', sa.String(length=12), nullable=False),
    sa.Column('assigned_to', sa.Uuid(), nullable=True),
    sa.Column('due_at', passtrace.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('reached_at', passtrace.core.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('updated_at', passtrace.core.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('notes', sa.Text(), nullable=False),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('created_at', passtrace.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['assigned_to'], ['users.id'], name=op.f('fk_tracing_tasks_assigned_to_users')),
    sa.ForeignKeyConstraint(['contact_id'], ['case_contacts.id'], name=op.f('fk_tracing_tasks_contact_id_case_contacts'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_tracing_tasks')),
    sa.UniqueConstraint('contact_id', name=op.f('uq_tracing_tasks_contact_id'))
    )
    with op.batch_alter_table('tracing_tasks', schema=None) as batch_op:
        batch_op.create_index('ix_tracing_tasks_area_status', ['area_code', 'status', 'due_at'], unique=False)

    with op.batch_alter_table('daily_reports', schema=None) as batch_op:
        batch_op.add_column(sa.Column('person_hash', sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column('external_id', sa.String(length=64), nullable=True))
        batch_op.create_index(batch_op.f('ix_daily_reports_person_hash'), ['person_hash'], unique=False)
        batch_op.create_unique_constraint(batch_op.f('uq_daily_reports_external_id'), ['external_id'])
    # Reports filed so far: the filer's hash from their employee's person record.
    op.execute("UPDATE daily_reports SET person_hash = (SELECT p.id_hash FROM employees e "
               "JOIN people p ON p.id = e.person_id WHERE e.id = daily_reports.employee_id)")

    with op.batch_alter_table('registrations', schema=None) as batch_op:
        batch_op.add_column(sa.Column('external_id', sa.String(length=64), nullable=True))
        batch_op.create_unique_constraint(batch_op.f('uq_registrations_external_id'), ['external_id'])



def downgrade() -> None:
    with op.batch_alter_table('registrations', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('uq_registrations_external_id'), type_='unique')
        batch_op.drop_column('external_id')

    with op.batch_alter_table('daily_reports', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('uq_daily_reports_external_id'), type_='unique')
        batch_op.drop_index(batch_op.f('ix_daily_reports_person_hash'))
        batch_op.drop_column('external_id')
        batch_op.drop_column('person_hash')

    with op.batch_alter_table('tracing_tasks', schema=None) as batch_op:
        batch_op.drop_index('ix_tracing_tasks_area_status')

    op.drop_table('tracing_tasks')
    with op.batch_alter_table('report_findings', schema=None) as batch_op:
        batch_op.drop_index('ix_report_findings_report')

    op.drop_table('report_findings')
    with op.batch_alter_table('case_events', schema=None) as batch_op:
        batch_op.drop_index('ix_case_events_case')

    op.drop_table('case_events')
    with op.batch_alter_table('case_contacts', schema=None) as batch_op:
        batch_op.drop_index('ix_case_contacts_person')

    op.drop_table('case_contacts')
    with op.batch_alter_table('cases', schema=None) as batch_op:
        batch_op.drop_index('ix_cases_person_hash')
        batch_op.drop_index('ix_cases_area_status')

    op.drop_table('cases')
    with op.batch_alter_table('stays', schema=None) as batch_op:
        batch_op.drop_index('ix_stays_started_at')
        batch_op.drop_index('ix_stays_site_time')
        batch_op.drop_index('ix_stays_person_time')

    op.drop_table('stays')
