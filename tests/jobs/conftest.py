"""Fixtures for the job runner tests."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.jobs.gateway import Gateway, free_port


@pytest.fixture
def gateway() -> Iterator[Gateway]:
    """A local gateway, up."""
    g = Gateway(port=free_port())
    g.start()
    yield g
    g.stop()


@pytest.fixture
def down_gateway() -> Iterator[Gateway]:
    """A local gateway that is down until the test calls start()."""
    g = Gateway(port=free_port())
    yield g
    g.stop()
