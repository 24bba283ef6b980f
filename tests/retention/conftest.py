"""Retention tests reuse the audit tests' fresh database per test (for the CLI)."""

from tests.audit.conftest import fresh_url  # noqa: F401 - a fixture, used by name
from tests.concurrency import committed_client, committed_rt, committed_url  # noqa: F401 - fixtures
from tests.reports.conftest import frozen, world  # noqa: F401, E402 - fixtures
