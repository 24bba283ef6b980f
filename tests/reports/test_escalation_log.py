"""An escalation names a repeat misser to their department's heads: the employee finds it
in "who viewed my data", once; someone only reminded (their own notice) finds nothing."""

from __future__ import annotations

from typing import Any

from passtrace.reports import reminders
from tests.reports.conftest import file


def _told(client: Any, persona: Any) -> list[dict[str, Any]]:
    log = client.get("/api/v1/me/access-log", headers=persona.headers)
    assert log.status_code == 200
    return [e for e in log.json()["items"] if e["action"] == "report.missed_notice"]


def test_the_employee_sees_that_their_department_head_was_told(client, rt, session, world):  # type: ignore[no-untyped-def]
    file(client, world.staff["alice"].persona, world.today)
    session.commit()
    stats = reminders.run(session=session, rt=rt)
    session.commit()
    assert stats.escalated == 2  # bob and carol, to the head of 销售部
    bob, carol = world.staff["bob"].persona, world.staff["carol"].persona
    assert len(_told(client, bob)) == 1 and len(_told(client, carol)) == 1
    # dave's department has no head: reminded only, nobody else was told.
    assert _told(client, world.staff["dave"].persona) == []
    assert _told(client, world.staff["alice"].persona) == []
    reminders.run(session=session, rt=rt)  # a re-run sends nothing, logs nothing
    session.commit()
    assert len(_told(client, bob)) == 1
    assert "告知部门负责人您已连续两天未按时填报每日健康打卡" in client.get(
        "/me/access-log", headers=bob.headers).text
