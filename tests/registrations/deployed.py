"""A fresh PostgreSQL database served as deployed, for the fast path's tests.

The shared fixtures run every test inside one rolled-back transaction, where the fast
path (its own connections) cannot see the arranged data and so stands aside; these
tests need committed data on a database of their own.
"""

from __future__ import annotations

import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

from fastapi.testclient import TestClient
from sqlalchemy import text

from passtrace.app import create_app
from passtrace.core.config import Settings
from passtrace.core.runtime import Runtime
from tests.conftest import PG_ADMIN_URL, skip_or_fail

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "scripts"))
import checkpoint_env  # noqa: E402

Deployed = tuple[TestClient, Runtime, checkpoint_env.Seeded]


def serve_deployed(prefix: str, *, residents: int,
             site_kind: str | None = None) -> Iterator[Deployed]:
    """Yield a client (bearer of the seeded staff), the runtime and what was seeded."""
    name = f"{prefix}_{uuid.uuid4().hex[:8]}"
    try:
        url = checkpoint_env.create_pg_database(name)
    except Exception as exc:  # noqa: BLE001 - no server
        skip_or_fail(f"PostgreSQL not reachable at {PG_ADMIN_URL}: {exc}")
    try:
        seeded = checkpoint_env.seed(url, residents=residents)
        env = checkpoint_env.settings_env(url)
        rt = Runtime.build(Settings(**{k.removeprefix("PASSTRACE_").lower(): v
                                       for k, v in env.items()}))
        if site_kind is not None:
            with rt.engine.begin() as conn:
                conn.execute(text("UPDATE sites SET kind = :kind"), {"kind": site_kind})
        with TestClient(create_app(runtime=rt)) as client:
            client.headers["Authorization"] = f"Bearer {seeded.token}"
            yield client, rt, seeded
        rt.engine.dispose()
    finally:
        checkpoint_env.drop_pg_database(name)
