"""Sixteen guards scanning at once against the embedded default (SQLite) are never told "busy".

A real `python -m passtrace serve` on a SQLite file (scripts/checkpoint_env.py), sixteen
threads each posting single registrations as fast as answers come back. Before writers
were serialised inside the process (core/sqlite_writes), about three answers in four
were 503 "busy": each request read, then met another's commit at its first write.
"""

from __future__ import annotations

import sys
import threading
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

import httpx
from sqlalchemy import create_engine, text

from passtrace.core.ids import uuid7

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "scripts"))
from checkpoint_env import Server, seed  # noqa: E402

GUARDS = 16
SCANS_EACH = 12


def test_sixteen_guards_scanning_at_once_on_sqlite_get_no_busy_answers(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'gate.db'}"
    seeded = seed(url, residents=8)
    server = Server(url, log=tmp_path / "server.log")
    server.start(timeout=120)  # a loaded machine starts Python slowly
    statuses: Counter[int] = Counter()
    sent: list[str] = []
    lock = threading.Lock()
    go = threading.Barrier(GUARDS)
    failures: list[BaseException] = []

    def guard(n: int) -> None:
        try:
            with httpx.Client(base_url=server.base, timeout=60.0, headers={
                    "Authorization": f"Bearer {seeded.token}"}) as client:
                go.wait()
                for i in range(SCANS_EACH):
                    now = datetime.now(UTC).isoformat()
                    reg_id = str(uuid7())
                    body = {"id": reg_id, "site": seeded.site, "lane": "1",
                            "device_key": f"guard-{n}", "occurred_at": now,
                            "direction": "in" if i % 2 == 0 else "out",
                            "temperature": 36.6}
                    if i % 3 == 2:
                        body |= {"method": "id_typed",
                                 "id_number": seeded.id_numbers[(n + i) % len(seeded.id_numbers)]}
                    else:
                        body |= {"method": "qr",
                                 "token": seeded.pass_tokens[(n + i) % len(seeded.pass_tokens)]}
                    resp = client.post("/api/v1/registrations", json=body)
                    with lock:
                        statuses[resp.status_code] += 1
                        if resp.status_code == 200:
                            sent.append(reg_id)
        except BaseException as exc:  # noqa: BLE001 - reported by the main thread
            failures.append(exc)

    try:
        threads = [threading.Thread(target=guard, args=(n,)) for n in range(GUARDS)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=600)
    finally:
        server.stop()
    assert failures == []
    assert statuses == {200: GUARDS * SCANS_EACH}, statuses
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            stored = conn.execute(text("SELECT count(*) FROM registrations")).scalar_one()
    finally:
        engine.dispose()
    assert stored == len(sent) == GUARDS * SCANS_EACH
