"""Filing stays a small, fixed number of database round trips."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import event

from tests.reports.conftest import file

# Login resolution (cached or not) belongs to accounts; savepoints to the test fixture.
NOT_FILING = ("SAVEPOINT", "RELEASE", "ROLLBACK", "auth_sessions", "users", "role_bindings")


def test_filing_a_report_takes_a_fixed_number_of_statements(client, world, rt):
    bob = world.staff["bob"].persona
    assert file(client, bob, world.today - timedelta(days=1)).status_code == 201
    statements: list[str] = []

    def seen(conn, cursor, statement, *_args):  # type: ignore[no-untyped-def]
        head = " ".join(statement.split()[:8])
        if not any(word in head for word in NOT_FILING):
            statements.append(head)

    event.listen(rt.engine, "before_cursor_execute", seen)
    try:
        assert file(client, bob, world.today).status_code == 201
    finally:
        event.remove(rt.engine, "before_cursor_execute", seen)
    # Employee with enterprise, areas, existing report?, report, stops, audit (the chain's
    # lock and head, then the entry), count.
    assert len(statements) == 9, statements
