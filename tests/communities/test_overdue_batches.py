"""The overdue sweep notices a batch per transaction (communities/outings/jobs.py).

One transaction for everything due held every noticed outing's row until commit, and a
resident coming back through a gate (the check closes that outing) waited for the whole
sweep. The job now notices SWEEP_BATCH at a time, the oldest first, until none is due.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from passtrace.communities.compounds.models import Outing
from passtrace.communities.outings import jobs as outing_jobs
from passtrace.communities.outings import service as outing_service
from passtrace.notices.models import Notice
from passtrace.notices.service import InAppNotifier
from tests.communities.test_gate_rules import _out


def _noticed(session) -> list[bool]:  # type: ignore[no-untyped-def]
    return [o.overdue_noticed_at is not None
            for o in session.scalars(select(Outing).order_by(Outing.out_at))]


def test_a_limited_sweep_notices_the_oldest_first_and_leaves_the_rest(client, session,
                                                                      compound):
    compound.rules(client, max_out_minutes=30)
    for who, hours in ((0, 3), (1, 2)):
        at = (datetime.now(UTC) - timedelta(hours=hours)).isoformat()
        assert _out(client, compound, who, occurred_at=at)["decision"] == "allow"
    notifier = InAppNotifier(session)
    assert outing_service.sweep_overdue(session=session, notifier=notifier, limit=1) == 1
    assert _noticed(session) == [True, False]
    assert outing_service.sweep_overdue(session=session, notifier=notifier, limit=1) == 1
    assert outing_service.sweep_overdue(session=session, notifier=notifier, limit=1) == 0
    assert _noticed(session) == [True, True]
    assert len(session.scalars(select(Notice).where(
        Notice.kind == "community.overdue")).all()) == 2


def test_the_job_sweeps_batch_after_batch_until_none_is_due(client, session, rt, compound,
                                                            monkeypatch):
    monkeypatch.setattr(outing_jobs, "SWEEP_BATCH", 1)
    monkeypatch.setattr(outing_jobs, "SWEEP_PAUSE_S", 0)
    compound.rules(client, max_out_minutes=30)
    for who, hours in ((0, 3), (1, 2)):
        at = (datetime.now(UTC) - timedelta(hours=hours)).isoformat()
        assert _out(client, compound, who, occurred_at=at)["decision"] == "allow"
    assert outing_jobs.notice_overdue(rt) == 2
    assert outing_jobs.notice_overdue(rt) == 0
    assert _noticed(session) == [True, True]
