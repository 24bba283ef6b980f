"""stays.site_id: guarded by a trigger, not a foreign key

Drops the foreign key stays.site_id -> sites. Its check fired for every stay written,
a `SELECT ... FOR KEY SHARE` of the same site each time: ~9 us of PostgreSQL CPU a
stay, ~3 us an imported row (a third of an import's rows are "in"s; EXPLAIN ANALYZE of
a 10,000-row chunk: 29-45 ms for its 3,317 stays). Every writer of stays takes the
site from the "in" registration it has just stored or read.

What the key also did, refuse to delete a site that stays name (a stay may outlive
its registrations by a day: retention drops registrations by day partition), is kept
by a trigger (BEFORE DELETE, and BEFORE UPDATE OF id) raising the error class a key
would, as migration d9a4c2e7f150 did for registrations.site_id. The application never
deletes a site. Unlike the key, the trigger takes no lock on the stays it checks: a site
deleted by hand while a stay for it is being written could leave that stay orphaned
(inner joins would then pass over it); deleting a site is not something PassTrace does.

registrations.override_by -> users keeps its key, although its check trigger fires
(and returns at once) for every stored row, NULL or not (~1.45 us a row): on SQLite
dropping it means rebuilding registrations, which would drop the hour-count triggers
on it (migration d4a5b6c7e8f9) unless they were made again.

Revision ID: f4c8a2e6b9d1
Revises: f6a8c0e2b4d7
Create Date: 2026-12-05 22:30:00
"""

from __future__ import annotations

from alembic import op

revision = 'f4c8a2e6b9d1'
down_revision = 'f6a8c0e2b4d7'
branch_labels = None
depends_on = None

_KEY = 'fk_stays_site_id_sites'
_TRIGGER = 'sites_keep_stays'
_MESSAGE = 'stays still name this row of sites'


def upgrade() -> None:
    if op.get_bind().dialect.name == 'postgresql':
        op.execute(f"ALTER TABLE stays DROP CONSTRAINT {_KEY}")
        op.execute(f"""
            CREATE FUNCTION {_TRIGGER}() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN
              IF (TG_OP = 'DELETE' OR NEW.id IS DISTINCT FROM OLD.id) AND EXISTS (
                  SELECT 1 FROM stays WHERE site_id = OLD.id) THEN
                RAISE EXCEPTION '{_MESSAGE}' USING ERRCODE = 'foreign_key_violation';
              END IF;
              RETURN CASE WHEN TG_OP = 'DELETE' THEN OLD ELSE NEW END;
            END $$""")
        op.execute(f"CREATE TRIGGER {_TRIGGER} BEFORE UPDATE OF id OR DELETE ON sites "
                   f"FOR EACH ROW EXECUTE FUNCTION {_TRIGGER}()")
        return
    with op.batch_alter_table('stays', schema=None) as batch_op:
        batch_op.drop_constraint(_KEY, type_='foreignkey')
    for event, when in (("DELETE", ""), ("UPDATE OF id", "NEW.id IS NOT OLD.id AND ")):
        op.execute(
            f"CREATE TRIGGER {_TRIGGER}_{event.split()[0].lower()} BEFORE {event} ON sites "
            f"FOR EACH ROW WHEN {when}EXISTS (SELECT 1 FROM stays WHERE site_id = OLD.id) "
            f"BEGIN SELECT RAISE(ABORT, 'FOREIGN KEY constraint failed: {_MESSAGE}'); END")


def downgrade() -> None:
    if op.get_bind().dialect.name == 'postgresql':
        op.execute(f"DROP TRIGGER IF EXISTS {_TRIGGER} ON sites")
        op.execute(f"DROP FUNCTION IF EXISTS {_TRIGGER}()")
    else:
        op.execute(f"DROP TRIGGER IF EXISTS {_TRIGGER}_delete")
        op.execute(f"DROP TRIGGER IF EXISTS {_TRIGGER}_update")
    with op.batch_alter_table('stays', schema=None) as batch_op:
        batch_op.create_foreign_key(_KEY, 'sites', ['site_id'], ['id'])
