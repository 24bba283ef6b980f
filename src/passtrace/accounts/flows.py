"""Account use cases that span domains."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from passtrace.accounts import service as account_service
from passtrace.accounts.models import User
from passtrace.accounts.schemas import RegisterRequest
from passtrace.core.errors import Conflict
from passtrace.core.runtime import Runtime
from passtrace.people import service as people_service


def register_resident(*, session: Session, rt: Runtime, data: RegisterRequest,
                      ip: str | None) -> User:
    """Sign a resident up: their person record, an account, and the public role."""
    clean_id, name, phone = people_service.parse_identity(data.id_number, data.name, data.phone)
    existing = people_service.find_by_id_number(session=session, vault=rt.vault,
                                                id_number=clean_id)
    if existing is not None and session.scalar(
        select(User.id).where(User.person_id == existing.id).limit(1)
    ):
        # Say no more than that: whose account it is stays private.
        raise Conflict("An account already exists for this ID number.")
    person = existing or people_service.register(session=session, vault=rt.vault, actor=None,
                                                 id_number=clean_id, name=name, phone=phone)
    user = account_service.create(session=session, rt=rt, actor=None, username=data.username,
                                  password=data.password, display_name=person.name_masked,
                                  person_id=person.id)
    account_service.grant(session=session, actor=None, user=user, role="public")
    return user
