"""Tracing race tests use the committed databases of tests/concurrency.py."""

from tests.concurrency import committed_client, committed_rt, committed_url  # noqa: F401 - fixtures
