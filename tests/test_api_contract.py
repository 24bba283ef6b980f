"""The published OpenAPI document declares what every operation can answer.

A new route that forgets its error responses, its security or a stable id
fails here, not in a client's integration.
"""

from __future__ import annotations

import re
from typing import Any

import pytest
from fastapi.testclient import TestClient

from passtrace.app import create_app
from passtrace.core.config import Settings

ERROR_REF = "#/components/schemas/ErrorBody"
FILE_TYPES = {"text/csv", "image/png", "image/svg+xml",
              "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"}
PUBLIC = {  # operations anyone may call without a login
    "accounts_issue_token", "accounts_register", "passes_trust_list", "passes_trust_root",
    "passes_revocations", "sites_post_reading",
    "warnings_public_risks",  # the published risk areas
}


@pytest.fixture(scope="module")
def spec() -> dict[str, Any]:
    return create_app(Settings()).openapi()


def operations(spec: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    return [(method.upper(), path, op) for path, ops in spec["paths"].items()
            if path.startswith("/api/") for method, op in ops.items()]


def test_every_operation_declares_its_errors_security_and_id(spec: dict[str, Any]) -> None:
    problems = []
    ids = []
    for method, path, op in operations(spec):
        where = f"{method} {path}"
        op_id = op.get("operationId", "")
        ids.append(op_id)
        if not re.fullmatch(r"[a-z]+_[a-z0-9_]+", op_id):
            problems.append(f"{where}: operation id {op_id!r} is not <area>_<function>")
        responses = op["responses"]
        errors = {int(s) for s in responses if s.isdigit() and int(s) >= 400}
        for status in errors:
            schema = responses[str(status)]["content"]["application/json"]["schema"]
            if schema != {"$ref": ERROR_REF}:
                problems.append(f"{where}: {status} is not the error body")
        has_params = bool(op.get("parameters")) or "requestBody" in op
        writes = method in {"POST", "PUT", "PATCH", "DELETE"}
        needed = set()
        if has_params or writes:
            needed.add(422)
        if writes:
            needed |= {409, 413}
        if "{" in path or (writes and "requestBody" in op):
            needed.add(404)
        if op_id not in PUBLIC:
            needed |= {401, 403}
            if op.get("security") != [{"bearerAuth": []}, {"cookieAuth": []}]:
                problems.append(f"{where}: security is {op.get('security')}")
        elif op.get("security") != []:
            problems.append(f"{where}: a public operation declares security")
        if needed - errors:
            problems.append(f"{where}: missing {sorted(needed - errors)}")
        success = [s for s in responses if s.startswith("2")]
        if not success:
            problems.append(f"{where}: no success response")
    assert problems == []
    assert len(ids) == len(set(ids)), "operation ids must be unique"


def test_the_framework_validation_body_is_gone(spec: dict[str, Any]) -> None:
    schemas = spec["components"]["schemas"]
    assert "HTTPValidationError" not in schemas and "ValidationError" not in schemas
    assert set(schemas["ErrorBody"]["required"]) == {"error"}
    assert set(schemas["ErrorDetail"]["required"]) == {"code", "message", "fields"}


def test_security_schemes_are_published(spec: dict[str, Any]) -> None:
    schemes = spec["components"]["securitySchemes"]
    assert schemes["bearerAuth"] == {"type": "http", "scheme": "bearer",
                                     "description": schemes["bearerAuth"]["description"]}
    assert schemes["cookieAuth"]["in"] == "cookie"
    assert schemes["cookieAuth"]["name"] == "pt_session"


def test_files_declare_their_media_types(spec: dict[str, Any]) -> None:
    declared = {}
    for _, path, op in operations(spec):
        for media in op["responses"].get("200", {}).get("content", {}):
            if media in FILE_TYPES:
                declared.setdefault(media, []).append(path)
    assert set(declared) == FILE_TYPES
    assert "/api/v1/passes/{pass_id}/qr.png" in declared["image/png"]
    assert "/api/v1/reports/export" in declared[
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"]


def test_lists_are_pages(spec: dict[str, Any]) -> None:
    bare = []
    for method, path, op in operations(spec):
        schema = (op["responses"].get("200", {}).get("content", {})
                  .get("application/json", {}).get("schema", {}))
        if schema.get("type") == "array":
            bare.append(f"{method} {path}")
    assert bare == [], "lists answer {items, next} (core/pagination.py)"


def test_the_error_body_is_what_the_api_answers(rt) -> None:  # type: ignore[no-untyped-def]
    with TestClient(create_app(runtime=rt)) as client:
        resp = client.get("/api/v1/me")
    assert resp.status_code == 401
    assert set(resp.json()) == {"error"}
    assert set(resp.json()["error"]) == {"code", "message", "fields"}


def test_a_value_the_database_refuses_is_a_422_not_a_500(rt, client) -> None:  # type: ignore[no-untyped-def]
    # PostgreSQL text cannot hold NUL (refused: 422); SQLite compares it and finds no user.
    resp = client.post("/api/v1/auth/token", json={"username": "\x00", "password": "x"})
    expected = 422 if rt.engine.dialect.name == "postgresql" else 401
    assert resp.status_code == expected, resp.text
    assert set(resp.json()["error"]) == {"code", "message", "fields"}
