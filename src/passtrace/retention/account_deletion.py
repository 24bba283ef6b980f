"""A person deletes their own account and the personal data nobody else needs to keep.

Deleted at once: the login (username, password, display name and language are
replaced so nobody can log in as it again, and the name is free for re-use), every login
session and API token, role bindings, the second factor and its recovery codes, the
account's notices, and the link to the
person record (so the person's pass page, household and reports are no longer reachable
through it).

Kept, and why (docs/security.md, "Retention"):
- registrations, outings, daily reports, visits and deliveries: epidemiological
  records the compound, the employer and the health authority must be able to trace
  within the incubation window; the retention job deletes them when their period ends;
- the person record itself: the compound office or employer that registered the person
  holds it for its own duty (residents, staff lists) and removes it there;
- the audit log, including this deletion: the law requires a record of who processed
  whose data, and it is append-only.
"""

from __future__ import annotations

from sqlalchemy import delete, update
from sqlalchemy.orm import Session

from passtrace.accounts import service as account_service
from passtrace.accounts.models import AuthSession, RecoveryCode, RoleBinding, User
from passtrace.audit import service as audit
from passtrace.core.errors import Forbidden, NotFound
from passtrace.core.runtime import Runtime
from passtrace.core.security import Principal
from passtrace.notices.models import Notice

# Not a hash argon2 can produce: no password ever verifies against it.
UNUSABLE_PASSWORD = "!deleted"


class WrongPassword(Forbidden):
    """403, not 401: the login itself is fine, only the confirmation failed.

    Its failure count (accounts.throttle) is flushed: the caller commits it.
    """


def delete_own_account(*, session: Session, rt: Runtime, actor: Principal,
                       password: str) -> None:
    """Delete the actor's own account after they re-entered its password.

    The race: a login in flight while the account is deleted could start a session
    after its sessions were deleted. The user row is locked first (FOR UPDATE on
    PostgreSQL; SQLite writes one at a time), and login reads the password hash this
    transaction replaces, so a login after it fails and one before it has its session
    deleted here.
    """
    user = session.get(User, actor.user_id, with_for_update=True)
    if user is None or not user.is_active:
        raise NotFound("No such user.")
    if not account_service.confirm_password(session=session, rt=rt, user=user,
                                            password=password, ip=actor.ip):
        raise WrongPassword("The password is not right. Nothing was deleted.")
    person_id = user.person_id
    session.execute(delete(AuthSession).where(AuthSession.user_id == user.id))
    session.execute(delete(RoleBinding).where(RoleBinding.user_id == user.id))
    session.execute(delete(Notice).where(Notice.user_id == user.id))
    session.execute(update(User).where(User.id == user.id).values(
        username=f"deleted-{user.id.hex}", password_hash=UNUSABLE_PASSWORD,
        display_name="", locale=None, is_active=False, person_id=None,
        totp_secret=None, totp_enabled_at=None, totp_last_step=None))
    session.execute(delete(RecoveryCode).where(RecoveryCode.user_id == user.id))
    session.expire(user)
    audit.record(session=session, actor=actor, action="account.delete", resource_type="user",
                 resource_id=user.id, subject_person_id=person_id,
                 detail={"kept": ["registrations", "outings", "daily_reports", "visits",
                                  "deliveries", "person", "audit"]})
    session.flush()
    # Tokens are cached for a few seconds: forget them so the deleted login stops now.
    account_service.clear_token_cache()
