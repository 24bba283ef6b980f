"""A guard's offline checks, once uploaded, reach each checked person's access log as an
online check does: once per person per batch, never for a re-sent batch or a stranger."""

from __future__ import annotations

from typing import Any

from tests.registrations.test_batch_upload import batch, row


def _checks(client: Any, persona: Any) -> list[dict[str, Any]]:
    log = client.get("/api/v1/me/access-log", headers=persona.headers)
    assert log.status_code == 200
    return [e for e in log.json()["items"] if e["action"] == "registration.create"]


def test_an_uploaded_offline_check_shows_in_the_holders_log(client, checkpoint, make_persona):  # type: ignore[no-untyped-def]
    staff, holder = checkpoint.staff, checkpoint.resident
    bystander = make_persona("public", name="路人")
    rows = [row(pass_id=checkpoint.pass_["id"]) for _ in range(3)]
    assert _checks(client, holder) == []
    up = client.post("/api/v1/registrations/batch", json=batch(rows), headers=staff.headers)
    assert up.status_code == 200 and up.json()["stored"] == 3, up.text
    checks = _checks(client, holder)
    assert [e["actor"] for e in checks] == [staff.user.username]  # three rows, one entry
    # Sent again (the device lost the answer): nothing new stored, nothing new logged.
    again = client.post("/api/v1/registrations/batch", json=batch(rows), headers=staff.headers)
    assert again.json()["duplicates"] == 3
    assert len(_checks(client, holder)) == 1
    assert _checks(client, bystander) == []
