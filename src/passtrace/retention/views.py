"""API: a person deletes their own account."""

from __future__ import annotations

from fastapi import APIRouter

from passtrace.retention import account_deletion
from passtrace.retention.schemas import DeleteAccountRequest
from passtrace.web.deps import CurrentPrincipal, RuntimeDep, SessionDep
from passtrace.web.openapi import errors

router = APIRouter(tags=["accounts"])


@router.post("/me/delete-account", status_code=204, responses=errors(403, 429))
def delete_account(data: DeleteAccountRequest, session: SessionDep, rt: RuntimeDep,
                   principal: CurrentPrincipal) -> None:
    """Delete your account, your logins and notices (docs/security.md, "Retention")."""
    try:
        account_deletion.delete_own_account(session=session, rt=rt, actor=principal,
                                            password=data.password)
    except account_deletion.WrongPassword:
        session.commit()  # the failure counts towards the login throttle
        raise
