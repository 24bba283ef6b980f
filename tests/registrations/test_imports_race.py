"""Two imports of the same file at once: every row stored once, neither import fails.

Race: both read "not stored yet" and both insert. The unique external_id decides
(ON CONFLICT DO NOTHING / INSERT OR IGNORE): without it the second insert raised an
IntegrityError and the loser's whole import failed with a traceback. On PostgreSQL a
chunk first tries plain INSERTs: the loser's waits for the winner's keys, fails with
unique_violation, and its chunk goes again through ON CONFLICT DO NOTHING.
"""

from __future__ import annotations

import io
import json
from collections.abc import Callable

from sqlalchemy import func, select
from sqlalchemy.orm import InstrumentedAttribute, Session

from passtrace.core.ids import uuid7
from passtrace.core.runtime import Runtime
from passtrace.registrations import imports as registration_imports
from passtrace.registrations.models import Registration, Stay
from passtrace.reports import imports as report_imports
from passtrace.reports.models import DailyReport
from passtrace.sites.models import Site
from tests.concurrency import committed_rt, committed_url, race, tag  # noqa: F401 - fixtures
from tests.conftest import next_id_number

HEADER = "external_id,site_code,id_number,occurred_at,direction\n"


def _race_site(rt: Runtime) -> str:
    """A venue of its own for one test (the committed database is shared); its code."""
    code = f"RACE-{tag()}"
    with rt.sessions() as session:
        session.add(Site(id=uuid7(), code=code, name="竞争", kind="venue",
                         area_code="520102", lanes=["1"]))
        session.commit()
    return code


def _registrations_import(rt: Runtime, data: bytes) -> Callable[[Session], None]:
    """Import this CSV in the session a racing thread gives it, committing as it goes."""
    def load(session: Session) -> None:
        registration_imports.import_registrations(
            session=session, vault=rt.vault, actor=None, stream=io.BytesIO(data),
            commit=session.commit)
    return load


def _stored_by_both(rt: Runtime, load: Callable[[Session], None],
                    external_id: InstrumentedAttribute[str | None], run: str) -> int:
    """Run one import in two threads at once (neither may fail); count the run's rows."""
    outcomes = race(rt, load, load)
    assert set(outcomes) <= {"ok", "busy"} and "ok" in outcomes, outcomes
    with rt.sessions() as session:
        return session.scalar(select(func.count()).where(external_id.like(f"{run}-%"))) or 0


def test_the_same_registrations_imported_twice_at_once(committed_rt):  # noqa: F811
    rt = committed_rt
    code, run, person = _race_site(rt), tag(), next_id_number()
    data = (HEADER + "".join(
        f"{run}-{i},{code},{person},2026-02-03T08:{i:02d}:00+08:00,through\n"
        for i in range(40))).encode()
    assert _stored_by_both(rt, _registrations_import(rt, data),
                           Registration.external_id, run) == 40


def test_the_same_reports_imported_twice_at_once(committed_rt):  # noqa: F811
    rt = committed_rt
    run, person = tag(), next_id_number()
    data = "\n".join(json.dumps({"external_id": f"{run}-{i}", "id_number": person,
                                 "date": "2026-02-03", "stops": []})
                     for i in range(20)).encode()

    def load(session: Session) -> None:
        report_imports.import_reports(session=session, vault=rt.vault, actor=None, data=data)

    assert _stored_by_both(rt, load, DailyReport.external_id, run) == 20


def test_an_in_and_its_out_imported_by_two_files_at_once_pair(committed_rt):  # noqa: F811
    """Race: each import keeps the stays of its own new rows from what it reads; the file
    of the "in"s and the file of the "out"s committing at the same moment would each miss
    the other's rows and leave every stay open. The stays statements run under the audit
    chain's lock (stays.pg_after_rows), so the second reads the first's rows, whichever
    it is; SQLite lets one writer in (a "busy" import is run again, as its caller would).
    """
    rt = committed_rt
    code, run = _race_site(rt), tag()
    persons = [next_id_number() for _ in range(6)]
    ins = (HEADER + "".join(f"{run}-in-{i},{code},{p},2026-02-03T08:{i:02d}:00+08:00,in\n"
                            for i, p in enumerate(persons))).encode()
    outs = (HEADER + "".join(f"{run}-out-{i},{code},{p},2026-02-03T10:{i:02d}:00+08:00,out\n"
                             for i, p in enumerate(persons))).encode()

    calls = [_registrations_import(rt, ins), _registrations_import(rt, outs)]
    outcomes = race(rt, *calls)
    assert set(outcomes) <= {"ok", "busy"} and "ok" in outcomes, outcomes
    for outcome, call in zip(outcomes, calls, strict=True):
        if outcome == "busy":
            with rt.sessions() as session:
                call(session)
    with rt.sessions() as session:
        for p in persons:
            got = session.execute(select(Stay.closed_by, Stay.ended_at).where(
                Stay.person_hash == rt.vault.lookup_hash(p))).all()
            assert [closed for closed, _ in got] == ["out"], (p, got)
