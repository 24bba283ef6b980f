"""Account use cases that span domains."""

from __future__ import annotations

from sqlalchemy.orm import Session

from passtrace.accounts import binding
from passtrace.accounts import service as account_service
from passtrace.accounts.models import User
from passtrace.accounts.schemas import RegisterRequest
from passtrace.core.runtime import Runtime
from passtrace.people import service as people_service


def register_resident(*, session: Session, rt: Runtime, data: RegisterRequest,
                      ip: str | None) -> User:
    """Sign someone up: an account and the public role, bound to a person only with proof.

    Without a claim code the account is created unbound, and the answer is the same
    whether or not the ID number has a person record or an account (no enumeration);
    the account then binds at /me/bind. With a code that does not match, nothing is
    created and the one refusal message says nothing about why.
    """
    # Validate what was typed first, so a bad ID number is named and creates nothing.
    people_service.parse_identity(data.id_number, data.name, data.phone)
    user = account_service.create(session=session, rt=rt, actor=None, username=data.username,
                                  password=data.password, display_name=data.username)
    account_service.grant(session=session, actor=None, user=user, role="public")
    if data.claim_code:
        binding.bind_with_claim_code(session=session, rt=rt, user=user,
                                     id_number=data.id_number, name=data.name,
                                     phone=data.phone, code=data.claim_code,
                                     actor=account_service.principal_for(user, ip=ip))
    return user
