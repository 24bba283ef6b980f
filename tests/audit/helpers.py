"""What the audit chain tests share: lifting the append-only guard, two writers at once,
and the `passtrace audit` command against a database of its own."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.orm import Session, sessionmaker
from typer.testing import CliRunner, Result

from passtrace.cli.main import app as cli


def lift_append_only(session: Session) -> None:
    """What someone with the owner's rights (or the SQLite file) can do: drop the guard."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("ALTER TABLE audit_entries DISABLE TRIGGER USER"))
    else:
        for event in ("update", "delete"):
            session.execute(text(f"DROP TRIGGER audit_entries_no_{event}"))


def two_writers(factory: sessionmaker[Session], write: Callable[[Session, int], Any]) -> list[str]:
    """Run write(session, 0) and write(session, 1) in two threads, each committing in a
    session of its own; return "ok" or the error for each, in the order they ended."""
    outcomes: list[str] = []

    def run(n: int) -> None:
        with factory() as s:
            try:
                write(s, n)
                s.commit()
                outcomes.append("ok")
            except Exception as exc:  # noqa: BLE001 - recorded; the assertion shows it
                s.rollback()
                outcomes.append(f"error: {exc!r}")

    threads = [threading.Thread(target=run, args=(n,)) for n in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    return outcomes


def audit_command(url: str, monkeypatch: pytest.MonkeyPatch, *args: str) -> Result:
    """Run `passtrace audit ARGS` on the database at `url`."""
    monkeypatch.setenv("PASSTRACE_DATABASE_URL", url)
    return CliRunner().invoke(cli, ["audit", *args])


def reads_by(client: Any, person: Any, actor: Any, action: str) -> int:
    """How many `action` entries by `actor` the person sees in "who viewed my data"."""
    log = client.get("/api/v1/me/access-log", headers=person.headers)
    assert log.status_code == 200
    return sum(1 for e in log.json()["items"]
               if e["action"] == action and e["actor"] == actor.user.username)
