"""The overdue notice shows a resident's masked name and flat to the compound's managers:
the resident finds it in "who viewed my data", once per outing, like the notice."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from passtrace.communities.outings import service as outing_service
from passtrace.notices.service import InAppNotifier
from tests.communities.test_gate_rules import _out


def _notices(client: Any, persona: Any) -> list[dict[str, Any]]:
    log = client.get("/api/v1/me/access-log", headers=persona.headers)
    assert log.status_code == 200
    return [e for e in log.json()["items"] if e["action"] == "resident.overdue_notice"]


def test_the_overdue_resident_sees_that_the_managers_were_told(client, session, compound):  # type: ignore[no-untyped-def]
    compound.rules(client, max_out_minutes=30)
    late, back_soon = compound.residents[0], compound.residents[1]
    at = (datetime.now(UTC) - timedelta(hours=2)).isoformat()
    assert _out(client, compound, 0, occurred_at=at)["decision"] == "allow"
    assert _out(client, compound, 1)["decision"] == "allow"  # out just now: not overdue
    notifier = InAppNotifier(session)
    assert outing_service.sweep_overdue(session=session, notifier=notifier) == 1
    session.commit()
    assert len(_notices(client, late)) == 1
    assert _notices(client, back_soon) == []
    # The next sweep tells nobody again, and logs nothing again.
    assert outing_service.sweep_overdue(session=session, notifier=notifier) == 0
    session.commit()
    assert len(_notices(client, late)) == 1
    shown = client.get("/me/access-log", headers=late.headers).text
    assert "您外出超时" in shown


def test_two_sweeps_at_once_log_the_notice_once(client, session, compound):  # type: ignore[no-untyped-def]
    # The job runner's sweep and a cron `passtrace community overdue` both read the same
    # unnoticed outing before either marks it: only the one that marks it tells the
    # managers and writes the resident's access-log entry. The second sweep is run here
    # between the first one's read and its marking (the moment of the race).
    from sqlalchemy import event

    compound.rules(client, max_out_minutes=30)
    late = compound.residents[0]
    at = (datetime.now(UTC) - timedelta(hours=2)).isoformat()
    assert _out(client, compound, 0, occurred_at=at)["decision"] == "allow"
    notifier = InAppNotifier(session)
    inner: list[int] = []

    def meanwhile(state: Any) -> None:
        if state.is_update and not inner:
            inner.append(-1)
            inner[0] = outing_service.sweep_overdue(session=session, notifier=notifier)

    event.listen(session, "do_orm_execute", meanwhile)
    try:
        outer = outing_service.sweep_overdue(session=session, notifier=notifier)
    finally:
        event.remove(session, "do_orm_execute", meanwhile)
    session.commit()
    assert len(_notices(client, late)) == 1
    assert inner == [1] and outer == 0
