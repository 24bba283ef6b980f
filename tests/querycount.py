"""Count the SQL statements a piece of code sends, to catch N+1 queries in tests."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import Engine, event


@contextmanager
def statements(engine: Engine) -> Iterator[list[str]]:
    """Collect every statement sent through the engine inside the block."""
    seen: list[str] = []

    def listener(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        seen.append(statement)

    event.listen(engine, "before_cursor_execute", listener)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", listener)


def count_statements(engine: Engine, call: Callable[[], object]) -> int:
    """How many statements one call sends."""
    with statements(engine) as seen:
        call()
    return len(seen)


def assert_constant_queries(engine: Engine, call: Callable[[], object],
                            grow: Callable[[], object]) -> None:
    """Fail when `call` sends more statements after `grow` added rows to what it lists."""
    call()  # warm caches (principal, areas) so both counts are steady
    before = count_statements(engine, call)
    grow()
    after = count_statements(engine, call)
    assert after == before, f"{before} statements, then {after} with more rows: N+1"
