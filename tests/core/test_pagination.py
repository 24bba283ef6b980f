"""The one keyset pagination: stable order, no duplicates or gaps, a capped limit, clear 422s."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from passtrace.audit import service as audit_service
from passtrace.audit.models import AuditEntry
from passtrace.core.errors import ValidationFailed
from passtrace.core.pagination import (
    MAX_LIMIT,
    decode_cursor,
    encode_cursor,
    paginate_items,
    paginate_query,
)
from passtrace.tracing.models import Contact

ORDER = [AuditEntry.action, AuditEntry.id]
# Only this module's rows: other tests (fast path, CLI, some under the same resource
# type) commit audit entries of their own to the shared test database.
KIND = f"page-{uuid.uuid4().hex[:8]}"
OURS = select(AuditEntry).where(AuditEntry.resource_type == KIND)


def _add(session: Session, *actions: str) -> None:
    # Through the audit service: entries are links of its hash chain.
    audit_service.record_many(session=session, actor=None, entries=[
        {"action": a, "resource_type": KIND} for a in actions])
    session.flush()


def _walk(session: Session, limit: int, *, between_pages: list[list[str]] | None = None,
          descending: bool = False) -> list[AuditEntry]:
    seen: list[AuditEntry] = []
    cursor = None
    inserts = list(between_pages or [])
    while True:
        rows, cursor = paginate_query(session, OURS, ORDER, cursor=cursor,
                                      limit=limit, descending=descending)
        seen.extend(rows)
        if cursor is None:
            return seen
        if inserts:
            _add(session, *inserts.pop(0))


def test_pages_follow_the_sort_key_then_the_id(session: Session) -> None:
    _add(session, "b", "a", "b", "c", "a", "b", "a")
    rows = _walk(session, 2)
    assert [(r.action, r.id) for r in rows] == sorted((r.action, r.id) for r in rows)
    assert len(rows) == 7
    backwards = _walk(session, 3, descending=True)
    assert [r.id for r in backwards] == [r.id for r in reversed(rows)]


def test_rows_inserted_while_paging_cause_no_duplicates_or_gaps(session: Session) -> None:
    _add(session, *[f"k{i:02d}" for i in range(0, 20, 2)])  # k00, k02, ... k18
    before = {r.id for r in session.scalars(OURS)}
    # Between pages, rows land both before the cursor (k01: already passed) and after it.
    rows = _walk(session, 3, between_pages=[["k01", "k19"], ["k03", "k05", "k17"], ["k00"]])
    ids = [r.id for r in rows]
    assert len(ids) == len(set(ids)), "a row came twice"
    assert before <= set(ids), "a row that existed all along was skipped"
    assert [(r.action, r.id) for r in rows] == sorted((r.action, r.id) for r in rows)
    # What was inserted after the client's position shows up; what fell behind it does not.
    assert {"k19", "k17"} <= {r.action for r in rows}
    assert "k01" not in {r.action for r in rows}


def test_the_limit_is_capped(session: Session) -> None:
    _add(session, *["x"] * (MAX_LIMIT + 5))
    rows, nxt = paginate_query(session, OURS, ORDER, cursor=None, limit=10_000)
    assert len(rows) == MAX_LIMIT and nxt is not None
    rest, last = paginate_query(session, OURS, ORDER, cursor=nxt, limit=10_000)
    assert len(rest) == 5 and last is None
    items, _ = paginate_items(range(500), lambda n: (n,), cursor=None, limit=10_000)
    assert len(items) == MAX_LIMIT


@pytest.mark.parametrize("cursor", ["garbage!", "W10", "e30", "x" * 600,
                                    encode_cursor(("a", 1, 2)),  # too wide for (action, id)
                                    encode_cursor(("a",)),
                                    "W1siaSIsImFiYyJdLFsiaSIsMV1d"])  # ["i","abc"] not an int
def test_a_bad_cursor_is_a_clear_validation_error(session: Session, cursor: str) -> None:
    with pytest.raises(ValidationFailed) as caught:
        paginate_query(session, OURS, ORDER, cursor=cursor, limit=10)
    assert caught.value.fields == {"cursor": "Start again from the first page."}


@pytest.mark.parametrize("position", [
    (1, 5, datetime(2026, 11, 1, tzinfo=UTC), uuid.UUID(int=1)),  # a number for the kind
    (1, "close", 5, uuid.UUID(int=1)),  # a number for the time
    (1, "close", date(2026, 11, 1), uuid.UUID(int=1)),  # a day for a time
    (True, "close", datetime(2026, 11, 1, tzinfo=UTC), uuid.UUID(int=1)),  # a bool: no int
    (1, "close", datetime(2026, 11, 1, tzinfo=UTC), "abc")])  # text for the id
def test_a_cursor_of_other_types_than_the_columns_is_refused(session: Session,
                                                             position: tuple) -> None:
    # Well-formed but crafted: PostgreSQL would refuse the comparison (a 500) where
    # SQLite compared anything with anything.
    order = [Contact.depth, Contact.kind, Contact.first_exposure, Contact.id]
    with pytest.raises(ValidationFailed) as caught:
        paginate_query(session, select(Contact), order, cursor=encode_cursor(position),
                       limit=10)
    assert caught.value.fields == {"cursor": "Start again from the first page."}
    rows, _ = paginate_query(session, select(Contact), order, limit=10, cursor=encode_cursor(
        (1, "close", datetime(2026, 11, 1, tzinfo=UTC), uuid.UUID(int=1))))
    assert isinstance(rows, list)  # the same shape with the right types is a page


def test_cursors_keep_their_types() -> None:
    position = (datetime(2026, 12, 2, 8, 30), date(2026, 12, 2), uuid.UUID(int=7), 3, "楼",
                False, ((1, ""), (0, "A")))
    assert decode_cursor(encode_cursor(position), len(position)) == position


def test_in_memory_lists_page_the_same_way() -> None:
    names = ["10", "2", "1", "2", "33"]
    rows = list(enumerate(names))
    seen: list[tuple[int, str]] = []
    cursor = None
    while True:
        page, cursor = paginate_items(rows, lambda r: (int(r[1]), r[0]), cursor=cursor,
                                      limit=2)
        seen.extend(page)
        if cursor is None:
            break
    assert [n for _, n in seen] == ["1", "2", "2", "10", "33"]
    with pytest.raises(ValidationFailed):
        paginate_items(rows, lambda r: (int(r[1]), r[0]), cursor=encode_cursor(("a",)),
                       limit=2)
    with pytest.raises(ValidationFailed):  # right width, wrong types
        paginate_items(rows, lambda r: (int(r[1]), r[0]), cursor=encode_cursor(("a", "b")),
                       limit=2)


def test_the_api_pages_a_list_and_refuses_a_bad_cursor(client, make_persona) -> None:
    persona = make_persona("public")
    first = client.get("/api/v1/areas", params={"limit": 2}, headers=persona.headers)
    assert first.status_code == 200, first.text
    body = first.json()
    assert len(body["items"]) == 2 and body["next"]
    second = client.get("/api/v1/areas", params={"limit": 2, "cursor": body["next"]},
                        headers=persona.headers).json()
    codes = [a["code"] for a in body["items"] + second["items"]]
    assert codes == sorted(set(codes)) and len(codes) == 4
    bad = client.get("/api/v1/areas", params={"cursor": "nonsense"},
                     headers={**persona.headers, "Accept-Language": "en"})
    assert bad.status_code == 422
    assert bad.json()["error"]["code"] == "invalid"
    assert bad.json()["error"]["fields"] == {"cursor": "Start again from the first page."}
    assert client.get("/api/v1/areas", params={"limit": MAX_LIMIT + 1},
                      headers=persona.headers).status_code == 422
