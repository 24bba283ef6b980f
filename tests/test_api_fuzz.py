"""No input makes a server error: every API operation, fuzzed from the OpenAPI schema."""

from __future__ import annotations

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

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
