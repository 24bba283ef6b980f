"""No input makes a server error: every API operation, fuzzed from the OpenAPI schema."""

from __future__ import annotations

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings

from passtrace.app import create_app

# Logging out would end the persona's token halfway through the run.
SKIP_PATHS = {"/api/v1/auth/logout"}


@pytest.mark.parametrize("role", ["public", "official"])
def test_no_generated_request_gets_a_server_error(rt, make_persona, role):
    persona = make_persona(role, "area" if role == "official" else "global",
                           "520100" if role == "official" else "")
    schema = schemathesis.openapi.from_asgi("/api/v1/openapi.json", create_app(runtime=rt))
    failures: list[str] = []
    for result in schema.get_all_operations():
        operation = result.ok()
        if operation.path in SKIP_PATHS:
            continue

        @settings(max_examples=40, deadline=None, database=None, derandomize=True,
                  suppress_health_check=list(HealthCheck))
        @given(case=operation.as_strategy())
        def check(case):  # type: ignore[no-untyped-def]
            response = case.call(headers=persona.headers)
            if response.status_code >= 500:
                failures.append(f"{case.method} {case.formatted_path} -> "
                                f"{response.status_code}: {response.text[:200]}")

        check()
    assert failures == []
