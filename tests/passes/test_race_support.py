"""Committed fixtures for concurrency tests (they cannot live in a rolled-back transaction)."""

from __future__ import annotations

import uuid
from datetime import date, timedelta

from sqlalchemy import delete

from passtrace.accounts import service as account_service
from passtrace.core.clock import utcnow
from passtrace.core.security import Principal
from passtrace.passes import service as pass_service
from passtrace.passes.models import Pass, Revocation
from passtrace.passes.schemas import PassCreate
from passtrace.people import service as people_service
from tests.conftest import PASSWORD


def _fresh_id_number(tag: str) -> str:
    """An ID number no other committed test holds: one shared with another race test would
    bind two accounts to one person (users.person_id is unique)."""
    from passtrace.demo import demo_id_number

    n = int(tag, 16)
    birth = date(1960, 1, 1) + timedelta(days=n % 15000)
    return demo_id_number("520102", birth.strftime("%Y%m%d"), str((n // 15000) % 1000).zfill(3))


def committed_pending_pass(factory, rt) -> tuple[uuid.UUID, Principal]:  # type: ignore[no-untyped-def]
    """Commit a resident, an official and a pending pass; return the pass id and official."""
    tag = uuid.uuid4().hex[:8]
    with factory() as session:
        person = people_service.register(
            session=session, vault=rt.vault, actor=None, name="赵六",
            id_number=_fresh_id_number(tag))
        user = account_service.create(session=session, rt=rt, actor=None,
                                      username=f"race-{tag}", password=PASSWORD,
                                      display_name="赵*", person_id=person.id)
        account_service.grant(session=session, actor=None, user=user, role="public")
        resident = account_service.principal_for(user)
        now = utcnow()
        p = pass_service.apply(session=session, rt=rt, actor=resident, data=PassCreate(
            purpose="commute", valid_from=now, valid_until=now + timedelta(days=1),
            areas=["520102006"]))
        official_user = account_service.create(session=session, rt=rt, actor=None,
                                               username=f"official-{tag}", password=PASSWORD,
                                               display_name="南明区")
        account_service.grant(session=session, actor=None, user=official_user, role="official",
                              scope_type="area", scope_value="520102")
        official = account_service.principal_for(official_user)
        session.commit()
        pass_id = p.id
    return pass_id, official


def delete_pass(factory, pass_id: uuid.UUID) -> None:  # type: ignore[no-untyped-def]
    """Remove the committed pass (audit rows stay: the log is append-only)."""
    with factory() as session:
        session.execute(delete(Revocation).where(Revocation.pass_id == pass_id))
        session.execute(delete(Pass).where(Pass.id == pass_id))
        session.commit()
