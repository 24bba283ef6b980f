"""PostgreSQL least privilege: the application's role may only INSERT and SELECT the audit log.

Migrations run as the owner of the tables; the application connects as another role.
Only a table's owner (or a superuser) may ALTER it — and so disable its triggers — and
TRUNCATE, UPDATE and DELETE need privileges this role never gets on audit_entries.
"""

from __future__ import annotations

from sqlalchemy import Connection, text

from passtrace.core.errors import ValidationFailed

AUDIT_TABLE = "audit_entries"


def grant_app_role(conn: Connection, role: str) -> list[str]:
    """Grant an existing login role what the application needs; return the statements run.

    Run as the owner of the tables (the role migrations run as), after every
    `passtrace db upgrade` that adds tables: default privileges cover tables this
    owner creates later, but re-running is harmless.
    """
    if conn.dialect.name != "postgresql":
        raise ValidationFailed("Database roles exist only on PostgreSQL; SQLite has none.")
    found = conn.execute(text("SELECT rolsuper FROM pg_roles WHERE rolname = :r"),
                         {"r": role}).first()
    if found is None:
        raise ValidationFailed(
            "There is no database role %(role)s: create it first "
            "(CREATE ROLE %(role)s LOGIN PASSWORD '...').", role=role)
    if found[0]:
        raise ValidationFailed("%(role)s is a superuser: it could do anything to the audit log.",
                               role=role)
    owner = conn.execute(text("SELECT tableowner FROM pg_tables WHERE tablename = :t "
                              "AND schemaname = current_schema()"), {"t": AUDIT_TABLE}).scalar()
    if owner is None:
        raise ValidationFailed("The schema is not there yet: run passtrace db upgrade first.")
    if owner == role:
        raise ValidationFailed(
            "%(role)s owns the tables: the application needs a role of its own.", role=role)
    q = conn.dialect.identifier_preparer.quote
    r = q(role)
    database = q(conn.execute(text("SELECT current_database()")).scalar_one())
    statements = [
        f"GRANT CONNECT ON DATABASE {database} TO {r}",
        f"GRANT USAGE ON SCHEMA public TO {r}",
        f"GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO {r}",
        f"GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO {r}",
        f"ALTER DEFAULT PRIVILEGES IN SCHEMA public "
        f"GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO {r}",
        f"ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT USAGE, SELECT ON SEQUENCES TO {r}",
        # The audit log: append and read, nothing else.
        f"REVOKE UPDATE, DELETE, TRUNCATE, REFERENCES, TRIGGER ON {AUDIT_TABLE} FROM {r}",
        # Which migrations ran is the owner's business.
        f"REVOKE INSERT, UPDATE, DELETE, TRUNCATE ON alembic_version FROM {r}",
    ]
    for statement in statements:
        conn.execute(text(statement))
    return statements
