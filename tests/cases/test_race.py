"""Two officials at once (committed data, both databases): no edit silently lost, no
second open case for one person."""

from __future__ import annotations

import uuid
from datetime import date

from sqlalchemy import func, select

from passtrace.cases import service as case_service
from passtrace.cases.models import Case, CaseEvent
from passtrace.cases.schemas import CaseCreate, CaseUpdate
from passtrace.people import service as people_service
from tests.concurrency import committed_persona, is_postgres, race
from tests.conftest import next_id_number


def _open_case(rt, official) -> uuid.UUID:  # type: ignore[no-untyped-def]
    with rt.sessions() as s:
        case = case_service.create(session=s, rt=rt, actor=official, data=CaseCreate(
            id_number=next_id_number(), onset_date=date(2026, 11, 20), area_code="520102"))
        s.commit()
        return case.id


def test_two_officials_editing_one_case_at_once_never_lose_an_edit(committed_rt,
                                                                   committed_client):
    rt = committed_rt
    a = committed_persona(rt, committed_client, "official", "area", "520102").principal
    b = committed_persona(rt, committed_client, "official", "area", "520102").principal
    case_id = _open_case(rt, a)

    def edit(actor, notes: str):  # type: ignore[no-untyped-def]
        return lambda session: case_service.update_case(
            session=session, actor=actor, case_id=case_id,
            data=CaseUpdate(version=1, notes=notes))

    # Both officials loaded the case at version 1 before either saved.
    outcomes = race(rt, edit(a, "甲的记录"), edit(b, "乙的记录"),
                    before=lambda s: s.get(Case, case_id))
    loser = {"Conflict"} if is_postgres(rt) else {"Conflict", "busy"}
    assert outcomes.count("ok") == 1 and (set(outcomes) - {"ok"}) <= loser, outcomes
    with rt.sessions() as s:
        case = s.get(Case, case_id)
        edits = s.scalars(select(CaseEvent).where(CaseEvent.case_id == case_id,
                                                  CaseEvent.action == "edit")).all()
        winner = "甲的记录" if outcomes[0] == "ok" else "乙的记录"
        assert case.version == 2 and case.notes == winner
        assert len(edits) == 1 and edits[0].changes["notes"] == ["", winner]


def test_two_officials_opening_a_case_for_one_person_at_once_open_one(committed_rt,
                                                                      committed_client):
    rt = committed_rt
    a = committed_persona(rt, committed_client, "official", "area", "520102").principal
    number = next_id_number()
    with rt.sessions() as s:
        person = people_service.register_by_id_number(session=s, vault=rt.vault, actor=None,
                                                      id_number=number)
        s.commit()
        person_id = person.id

    def open_case(session):  # type: ignore[no-untyped-def]
        return case_service.create(session=session, rt=rt, actor=a, data=CaseCreate(
            id_number=number, onset_date=date(2026, 11, 20), area_code="520102"))

    outcomes = race(rt, open_case, open_case,
                    before=lambda s: s.scalar(select(Case.id).where(Case.person_id == person_id)))
    loser = {"Conflict"} if is_postgres(rt) else {"Conflict", "busy"}
    assert outcomes.count("ok") == 1 and (set(outcomes) - {"ok"}) <= loser, outcomes
    with rt.sessions() as s:
        assert s.scalar(select(func.count()).select_from(Case).where(
            Case.person_id == person_id, Case.status == "open")) == 1
