"""registrations: site and operator checked once per write, not by a foreign key per row

Drops the foreign keys registrations.site_id -> sites and registrations.operator_user_id
-> users. Each fired a `SELECT ... FOR KEY SHARE` of the referenced row for every
stored registration: the same site and the same operator for all the thousands of rows
of a batch upload, 3.65 s of PostgreSQL time per 50,000 rows against 0.84 s without
them. Every writer takes both values from rows it has just read (the site by its code,
the operator from the login), and the batch upload locks the two rows once per batch
(registrations.ingest) as the keys did per row.

What the keys also did, refuse to delete a site or a user that registrations still
name, is kept by a trigger on each (BEFORE DELETE, and BEFORE UPDATE OF id), which
raises the error class a key would (foreign_key_violation on PostgreSQL, a constraint
failure on SQLite). Neither is ever deleted by the application (sites are kept even
by the sunset; a deleted account is deactivated, not removed), so the triggers are a
guard against hand-made deletions. docs/checkpoint.md ("Why registrations have no
foreign key to the site and the operator") gives the reasoning.

override_by -> users stays a foreign key: it is NULL on almost every row, and a NULL
costs no check.

Revision ID: d9a4c2e7f150
Revises: d2e8a4c6f1b3
Create Date: 2026-12-04 21:00:00
"""

from __future__ import annotations

from alembic import op

revision = 'd9a4c2e7f150'
down_revision = 'd2e8a4c6f1b3'
branch_labels = None
depends_on = None

_KEYS = (('fk_registrations_site_id_sites', 'site_id', 'sites'),
         ('fk_registrations_operator_user_id_users', 'operator_user_id', 'users'))
# (trigger, guarded table, registrations column naming it)
_GUARDS = (('sites_keep_registrations', 'sites', 'site_id'),
           ('users_keep_registrations', 'users', 'operator_user_id'))


def upgrade() -> None:
    if op.get_bind().dialect.name == 'postgresql':
        for name, _, _ in _KEYS:
            # On the partitioned parent: its partitions' copies of the key go with it.
            op.execute(f"ALTER TABLE registrations DROP CONSTRAINT {name}")
        for trigger, table, column in _GUARDS:
            op.execute(f"""
                CREATE FUNCTION {trigger}() RETURNS trigger LANGUAGE plpgsql AS $$
                BEGIN
                  IF (TG_OP = 'DELETE' OR NEW.id IS DISTINCT FROM OLD.id) AND EXISTS (
                      SELECT 1 FROM registrations WHERE {column} = OLD.id) THEN
                    RAISE EXCEPTION 'registrations still name this row of {table}'
                      USING ERRCODE = 'foreign_key_violation';
                  END IF;
                  RETURN CASE WHEN TG_OP = 'DELETE' THEN OLD ELSE NEW END;
                END $$""")
            op.execute(f"CREATE TRIGGER {trigger} BEFORE UPDATE OF id OR DELETE ON {table} "
                       f"FOR EACH ROW EXECUTE FUNCTION {trigger}()")
        return
    with op.batch_alter_table('registrations', schema=None) as batch_op:
        for name, _, _ in _KEYS:
            batch_op.drop_constraint(name, type_='foreignkey')
    for trigger, table, column in _GUARDS:
        for event, when in (("DELETE", ""), ("UPDATE OF id", "NEW.id IS NOT OLD.id AND ")):
            op.execute(
                f"CREATE TRIGGER {trigger}_{event.split()[0].lower()} BEFORE {event} "
                f"ON {table} FOR EACH ROW WHEN {when}EXISTS (SELECT 1 FROM registrations "
                f"WHERE {column} = OLD.id) BEGIN SELECT RAISE(ABORT, "
                f"'FOREIGN KEY constraint failed: registrations still name this row of "
                f"{table}'); END")


def downgrade() -> None:
    postgres = op.get_bind().dialect.name == 'postgresql'
    for trigger, table, _ in _GUARDS:
        if postgres:
            op.execute(f"DROP TRIGGER IF EXISTS {trigger} ON {table}")
            op.execute(f"DROP FUNCTION IF EXISTS {trigger}()")
        else:
            op.execute(f"DROP TRIGGER IF EXISTS {trigger}_delete")
            op.execute(f"DROP TRIGGER IF EXISTS {trigger}_update")
    with op.batch_alter_table('registrations', schema=None) as batch_op:
        for name, column, table in _KEYS:
            batch_op.create_foreign_key(name, table, [column], ['id'])
