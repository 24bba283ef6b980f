"""The supplies operations fuzzed as a supplies officer (the project-wide fuzz test walks
them as a public user and an official, who mostly meet 403: this reaches the services)."""

from __future__ import annotations

import pytest
import schemathesis

from passtrace.app import create_app
from tests.test_api_fuzz import fuzz


@pytest.mark.parametrize("role", ["supplies_officer"])
def test_supplies_operations_answer_as_declared(rt, make_persona, role):
    persona = make_persona(role, "area", "520100")
    schema = schemathesis.openapi.from_asgi("/api/v1/openapi.json", create_app(runtime=rt))
    failures: set[str] = set()
    walked = 0
    for result in schema.get_all_operations():
        operation = result.ok()
        if not operation.path.startswith("/api/v1/supplies"):
            continue
        walked += 1
        fuzz(operation, persona.headers, failures)
    assert walked >= 14
    assert not failures, "\n".join(sorted(failures))
