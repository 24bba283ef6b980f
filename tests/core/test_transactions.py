"""A change is acknowledged only after it is committed."""

from __future__ import annotations

from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from tests.passes.helpers import apply_body


def test_a_failed_commit_is_never_reported_as_success(client, make_persona, monkeypatch):
    resident = make_persona("public")

    def disk_full(self: Session) -> None:
        raise OperationalError("COMMIT", {}, Exception("disk I/O error"))

    monkeypatch.setattr(Session, "commit", disk_full)
    resp = client.post("/api/v1/passes", json=apply_body(), headers=resident.headers)
    monkeypatch.undo()
    assert resp.status_code >= 500
    assert resp.json()["error"]["code"] == "internal"
    assert client.get("/api/v1/passes/mine", headers=resident.headers).json()["items"] == []
