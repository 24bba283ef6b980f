"""Every API operation, fuzzed from its OpenAPI schema, answers as the schema says.

No input makes a server error, and every answer has a declared status code, a
declared content type and a body that matches the declared schema (the error
body included). Bounded: a fixed number of examples per operation, derandomized.
"""

from __future__ import annotations

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis.checks import not_a_server_error
from schemathesis.core.failures import FailureGroup
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from passtrace.app import create_app

# Dates and times at the edges of what Python can hold: day arithmetic on them (the day
# before, local midnight in UTC) was a 500 on in-out, stats and the dashboard.
EXTREME_DAYS = ["0001-01-01", "0001-01-02", "1899-12-31", "2100-01-01", "9999-12-30",
                "9999-12-31"]
schemathesis.openapi.format("date", st.sampled_from(EXTREME_DAYS) | st.dates().map(str))
schemathesis.openapi.format("date-time", st.sampled_from(
    [f"{d}T00:00:00+14:00" for d in EXTREME_DAYS] + [f"{d}T23:59:59-12:00" for d in EXTREME_DAYS]
    + ["9999-12-31T23:59:59"]) | st.datetimes(timezones=st.timezones()).map(
    lambda t: t.isoformat()))

CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance,
          response_schema_conformance]

def fuzz(operation, headers: dict[str, str], failures: set[str]) -> None:  # type: ignore[no-untyped-def]
    """Call one operation with 40 generated requests as `headers`; add one line per
    operation, status and kind of failure to `failures`."""

    @settings(max_examples=40, deadline=None, database=None, derandomize=True,
              suppress_health_check=list(HealthCheck))
    @given(case=operation.as_strategy())
    def check(case):  # type: ignore[no-untyped-def]
        response = case.call(headers=headers)
        try:
            case.validate_response(response, checks=CHECKS)
        except (AssertionError, FailureGroup) as exc:
            found = exc.exceptions if isinstance(exc, FailureGroup) else [exc]
            for failure in found:
                title = getattr(failure, "title", type(failure).__name__)
                failures.add(f"{case.method} {case.path} -> {response.status_code}: {title}")

    check()


# Logging out would end the persona's token halfway through the run.
SKIP_PATHS = {"/api/v1/auth/logout"}


@pytest.mark.parametrize("role", ["public", "official"])
def test_every_generated_request_gets_a_declared_answer(rt, make_persona, role):
    persona = make_persona(role, "area" if role == "official" else "global",
                           "520100" if role == "official" else "")
    schema = schemathesis.openapi.from_asgi("/api/v1/openapi.json", create_app(runtime=rt))
    failures: set[str] = set()  # one line per operation, status and kind of failure
    for result in schema.get_all_operations():
        operation = result.ok()
        if operation.path in SKIP_PATHS:
            continue

        fuzz(operation, persona.headers, failures)
    assert not failures, "\n".join(sorted(failures))
