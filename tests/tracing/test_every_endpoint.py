"""Every cases and tracing endpoint (API and pages), as a table: the official of the case's
area may, an official of another area gets 404 (or sees nothing of it in a list), a
resident gets 403, and bad input gets a clear Chinese message with nothing changed.
Both databases.
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from passtrace.audit.models import AuditEntry
from passtrace.cases.models import Case
from passtrace.core.clock import local_midnight, local_today
from passtrace.core.runtime import Runtime
from passtrace.tracing.models import Contact, TracingTask
from tests.conftest import next_id_number
from tests.tracing.world import person, reg, site

CJK = re.compile(r"[\u4e00-\u9fff]")
RELOAD = "请刷新页面后重试"  # the zh of "Reload the page and try again."
ONE, LIST, CREATE = "one", "list", "create"  # what an official of another area gets


@dataclass
class World:
    case: str
    task: str
    mine: Any
    other: Any
    resident: Any


@pytest.fixture
def world(rt: Runtime, session: Session, client: TestClient, make_persona) -> World:  # type: ignore[no-untyped-def]
    mine = make_persona("official", "area", "520102", name="南明疾控")
    s = site(session, "road_checkpoint", "520102")
    p, near = person(session, rt, "病例"), person(session, rt, "接触者")
    seen = local_today() - timedelta(days=1)
    at = local_midnight(seen)
    reg(session, s, p.id_hash, at + timedelta(hours=10))
    reg(session, s, near.id_hash, at + timedelta(hours=10, minutes=5))
    session.commit()
    made = client.post("/api/v1/cases", headers=mine.headers, json={
        "person_id": str(p.id), "onset_date": seen.isoformat(), "area_code": "520102"})
    assert made.status_code == 201, made.text
    case_id = made.json()["id"]
    ran = client.post(f"/api/v1/cases/{case_id}/contacts/run", json={}, headers=mine.headers)
    task = next(i["task"]["id"] for i in ran.json()["items"] if i["task"])
    return World(case_id, task, mine, make_persona("official", "area", "520103"),
                 make_persona("public"))


def _snapshot(session: Session, w: World) -> tuple[Any, ...]:
    """What a refused request must leave as it was."""
    session.expire_all()
    case = session.get(Case, uuid.UUID(w.case))
    task = session.get(TracingTask, uuid.UUID(w.task))
    assert case is not None and task is not None
    return (case.version, case.status, case.notes, task.status, task.notes,
            session.scalar(select(func.count()).select_from(Case)),
            session.scalar(select(func.count()).select_from(Contact)),
            session.scalar(select(func.count()).select_from(AuditEntry).where(
                AuditEntry.action.in_(("contact.export", "contact.search")))))


def _edit_form(**extra: str) -> dict[str, str]:
    onset = (local_today() - timedelta(days=1)).isoformat()
    return {"version": "1", "classification": "confirmed", "onset_date": onset,
            "area_code": "520102", "source": "", "notes": "补充说明", **extra}


def _new_form() -> dict[str, str]:
    return {"id_number": "{new_id}", "classification": "confirmed",
            "onset_date": (local_today() - timedelta(days=1)).isoformat(),
            "area_code": "520102"}


# (name, method, path, body: json for /api, form data for pages, what another area's
# official gets, whether the case is closed first)
ROUTES: list[tuple[str, str, str, dict[str, Any] | None, str, bool]] = [
    ("api-cases", "get", "/api/v1/cases", None, LIST, False),
    ("api-case-create", "post", "/api/v1/cases",
     {"id_number": "{new_id}", "onset_date": "{yesterday}", "area_code": "520102"}, CREATE,
     False),
    ("api-case", "get", "/api/v1/cases/{case}", None, ONE, False),
    ("api-case-edit", "patch", "/api/v1/cases/{case}", {"version": 1, "notes": "补充"}, ONE,
     False),
    ("api-case-close", "post", "/api/v1/cases/{case}/close", {}, ONE, False),
    ("api-case-reopen", "post", "/api/v1/cases/{case}/reopen", {}, ONE, True),
    ("api-case-history", "get", "/api/v1/cases/{case}/history", None, ONE, False),
    ("api-contacts-run", "post", "/api/v1/cases/{case}/contacts/run", {"depth": 2}, ONE, False),
    ("api-contacts", "get", "/api/v1/cases/{case}/contacts", None, ONE, False),
    ("api-contacts-export", "post", "/api/v1/cases/{case}/contacts/export", {}, ONE, False),
    ("api-tasks", "get", "/api/v1/tracing/tasks", None, LIST, False),
    ("api-task", "patch", "/api/v1/tracing/tasks/{task}", {"status": "reached"}, ONE, False),
    ("page-cases", "get", "/cases", None, LIST, False),
    ("page-case-new", "get", "/cases/new", None, LIST, False),
    ("page-case-create", "post", "/cases/new", _new_form(), CREATE, False),
    ("page-case", "get", "/cases/{case}", None, ONE, False),
    ("page-case-edit", "post", "/cases/{case}/edit", _edit_form(), ONE, False),
    ("page-case-close", "post", "/cases/{case}/close", {"version": "1"}, ONE, False),
    ("page-case-reopen", "post", "/cases/{case}/reopen", {"version": "2"}, ONE, True),
    ("page-contacts", "get", "/cases/{case}/contacts", None, ONE, False),
    ("page-contacts-run", "post", "/cases/{case}/contacts/run", {"depth": "2"}, ONE, False),
    ("page-contacts-export", "post", "/cases/{case}/contacts/export", {"format": "csv"}, ONE,
     False),
    ("page-chain", "get", "/cases/{case}/chain", None, ONE, False),
    ("page-tasks", "get", "/tracing/tasks", None, LIST, False),
    ("page-task", "post", "/tracing/tasks/{task}", {"status": "reached", "note": "已联系"}, ONE,
     False),
]


def _fill(value: Any, w: World) -> Any:
    if isinstance(value, str):
        return (value.replace("{case}", w.case).replace("{task}", w.task)
                .replace("{new_id}", next_id_number())
                .replace("{yesterday}", (local_today() - timedelta(days=1)).isoformat()))
    if isinstance(value, dict):
        return {k: _fill(v, w) for k, v in value.items()}
    return value


def _call(client: TestClient, who: Any, method: str, path: str, body: Any, w: World) -> Any:
    kw: dict[str, Any] = {"headers": who.headers, "follow_redirects": False}
    if body is not None:
        kw["json" if path.startswith("/api/") else "data"] = _fill(body, w)
    return client.request(method.upper(), _fill(path, w), **kw)


def _close(client: TestClient, w: World) -> None:
    resp = client.post(f"/api/v1/cases/{w.case}/close", json={}, headers=w.mine.headers)
    assert resp.status_code == 200, resp.text


@pytest.mark.parametrize(("name", "method", "path", "body", "outsider", "closed"), ROUTES,
                         ids=[r[0] for r in ROUTES])
def test_each_persona_gets_what_it_should(client, session, world, name, method, path, body,
                                          outsider, closed) -> None:  # type: ignore[no-untyped-def]
    w = world
    if closed:
        _close(client, w)
    before = _snapshot(session, w)
    resident = _call(client, w.resident, method, path, body, w)
    assert resident.status_code == 403, (name, resident.text[:300])
    other = _call(client, w.other, method, path, body, w)
    if outsider == ONE:
        assert other.status_code == 404, (name, other.text[:300])
    elif outsider == CREATE:  # outside their jurisdiction: refused, naming the area
        assert other.status_code == 422, (name, other.text[:300])
        assert "辖区" in other.text or "area_code" in other.text
    else:
        assert other.status_code == 200 and w.case not in other.text, name
        assert w.task not in other.text
    assert _snapshot(session, w) == before, name  # the refusals changed nothing
    ok = _call(client, w.mine, method, path, body, w)
    assert ok.status_code in (200, 201, 303), (name, ok.status_code, ok.text[:300])
    if outsider == LIST and method == "get":
        assert w.case in ok.text or w.task in ok.text or "/cases/new" in path, name


# (name, method, path, bad body, the field or text the error names)
BAD: list[tuple[str, str, str, dict[str, Any] | None, str]] = [
    ("api-close-version", "post", "/api/v1/cases/{case}/close", {"version": 0}, "version"),
    ("api-close-stale", "post", "/api/v1/cases/{case}/close", {"version": 7}, "version"),
    ("api-edit-date", "patch", "/api/v1/cases/{case}", {"version": 1, "onset_date": "2026-02-30"},
     "onset_date"),
    ("api-run-depth", "post", "/api/v1/cases/{case}/contacts/run", {"depth": 6}, "depth"),
    ("api-run-window", "post", "/api/v1/cases/{case}/contacts/run", {"window_minutes": -1},
     "window_minutes"),
    ("api-run-extra", "post", "/api/v1/cases/{case}/contacts/run", {"radius": 3}, "radius"),
    ("api-contacts-limit", "get", "/api/v1/cases/{case}/contacts?limit=0", None, "limit"),
    ("api-contacts-cursor", "get", "/api/v1/cases/{case}/contacts?cursor=%%%", None, "cursor"),
    ("api-export-format", "post", "/api/v1/cases/{case}/contacts/export", {"format": "pdf"},
     "format"),
    ("api-export-reason", "post", "/api/v1/cases/{case}/contacts/export",
     {"reveal": {"purpose": "contact_tracing", "reason": "看看"}}, "reason"),
    ("api-export-purpose", "post", "/api/v1/cases/{case}/contacts/export",
     {"reveal": {"purpose": "curiosity", "reason": "流调需要联系密接人员"}}, "purpose"),
    ("api-tasks-overdue", "get", "/api/v1/tracing/tasks?overdue=maybe", None, "overdue"),
    ("api-task-status", "patch", "/api/v1/tracing/tasks/{task}", {"status": "lost"}, "status"),
    ("api-task-note", "patch", "/api/v1/tracing/tasks/{task}",
     {"status": "reached", "note": "长" * 501}, "note"),
    ("page-edit-date", "post", "/cases/{case}/edit", _edit_form(onset_date="2026-02-30"), "日期"),
    ("page-close-version", "post", "/cases/{case}/close", {"version": "abc"}, "{reload}"),
    ("page-export-reason", "post", "/cases/{case}/contacts/export",
     {"format": "csv", "reveal": "1", "purpose": "contact_tracing", "reason": "看看"}, "理由"),
    ("page-task-status", "post", "/tracing/tasks/{task}", {"status": "lost", "note": ""},
     "请从列表中选择状态。"),
    ("page-task-note", "post", "/tracing/tasks/{task}",
     {"status": "reached", "note": "长" * 501}, ""),
]


@pytest.mark.parametrize(("name", "method", "path", "body", "names"), BAD,
                         ids=[b[0] for b in BAD])
def test_bad_input_is_refused_clearly_and_changes_nothing(client, session, world, name, method,
                                                          path, body, names) -> None:  # type: ignore[no-untyped-def]
    w = world
    before = _snapshot(session, w)
    resp = _call(client, w.mine, method, path, body, w)
    if name == "page-task-note":  # the page keeps the first 500 characters: no error
        assert resp.status_code == 303
        return
    assert 400 <= resp.status_code < 500 and resp.status_code != 404, (name, resp.text[:300])
    if path.startswith("/api/"):
        error = resp.json()["error"]
        assert names in error.get("fields", {}) or names in error["message"], (name, error)
        assert CJK.search(error["message"]) or any(
            CJK.search(str(m)) for m in error.get("fields", {}).values()), (name, error)
    else:
        names = names.replace("{reload}", RELOAD)
        assert names in resp.text and CJK.search(resp.text), (name, resp.text[:500])
    assert _snapshot(session, w) == before, name
