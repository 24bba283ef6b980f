"""The (pass_id, occurred_at) index holds only registrations with a pass, and a pass's
"already inside?" lookup still finds it (both databases)."""

from __future__ import annotations

from sqlalchemy import text
from sqlalchemy.orm import Session

LOOKUP = ("SELECT direction FROM registrations WHERE pass_id = :p "
          "ORDER BY occurred_at DESC LIMIT 1")
PASS = "0190f0e2-7b1a-7c3d-8e4f-5a6b7c8d9e0f"


def test_only_rows_with_a_pass_are_indexed_and_the_lookup_uses_the_index(
        session: Session) -> None:
    if session.get_bind().dialect.name == "postgresql":
        definition = session.execute(text(
            "SELECT indexdef FROM pg_indexes WHERE indexname = 'ix_registrations_pass_time'"
        )).scalar_one()
        # A tiny table would be scanned whole: ask whether the index can serve at all.
        session.execute(text("SET LOCAL enable_seqscan = off"))
        plan = "\n".join(r[0] for r in session.execute(text("EXPLAIN " + LOOKUP),
                                                       {"p": PASS}))
    else:
        definition = session.execute(text(
            "SELECT sql FROM sqlite_master WHERE name = 'ix_registrations_pass_time'"
        )).scalar_one()
        plan = "\n".join(str(r[-1]) for r in session.execute(
            text("EXPLAIN QUERY PLAN " + LOOKUP), {"p": PASS.replace("-", "")}))
    assert "pass_id IS NOT NULL" in definition
    if session.get_bind().dialect.name == "postgresql":
        # Registrations are partitioned by day: each partition has its own copy of the
        # index (named after the partition), every one of them partial like its parent.
        assert "Index Scan" in plan and "(pass_id = " in plan and "Seq Scan" not in plan
        parts = session.execute(text(
            "SELECT i.indexrelid::regclass::text, pg_get_expr(i.indpred, i.indrelid) "
            "FROM pg_inherits h JOIN pg_index i ON i.indexrelid = h.inhrelid "
            "WHERE h.inhparent = 'ix_registrations_pass_time'::regclass")).all()
        assert parts and all("pass_id IS NOT NULL" in (pred or "") for _, pred in parts)
        assert any(name in plan for name, _ in parts)
    else:
        assert "ix_registrations_pass_time" in plan
