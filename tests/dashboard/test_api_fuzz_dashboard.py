"""The dashboard operation fuzzed as a district official: every generated `area` gets a
declared answer (200, 404 or 422), never a 500."""

from __future__ import annotations

import schemathesis

from passtrace.app import create_app
from tests.test_api_fuzz import fuzz


def test_the_dashboard_answers_as_declared(rt, make_persona):
    persona = make_persona("official", "area", "520102")
    schema = schemathesis.openapi.from_asgi("/api/v1/openapi.json", create_app(runtime=rt))
    failures: set[str] = set()
    walked = 0
    for result in schema.get_all_operations():
        operation = result.ok()
        if operation.path.startswith("/api/v1/dashboard"):
            walked += 1
            fuzz(operation, persona.headers, failures)
    assert walked == 1
    assert not failures, "\n".join(sorted(failures))
