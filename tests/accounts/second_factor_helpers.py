"""Setting up a second factor in tests, and the codes an authenticator app would show."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from passtrace.accounts import second_factor, totp
from passtrace.core import clock


def code_at(secret_grouped: str, when: datetime) -> str:
    """The code the app shows at a moment."""
    return totp.totp(totp.secret_bytes(secret_grouped), when.timestamp())


class Clock:
    """A frozen clock moved on one TOTP step at a time (each code is good once)."""

    def __init__(self) -> None:
        self.now = datetime.now(UTC)
        clock.freeze(self.now)

    def tick(self, steps: int = 1) -> datetime:
        """Move to a later time step."""
        self.now += timedelta(seconds=totp.STEP_SECONDS * steps)
        clock.freeze(self.now)
        return self.now


def enrol(session, rt, principal, when: datetime) -> tuple[str, list[str]]:  # type: ignore[no-untyped-def]
    """Set up a second factor as its owner would; return the secret and recovery codes."""
    enrolment = second_factor.start_enrolment(session=session, rt=rt, actor=principal)
    codes = second_factor.confirm_enrolment(session=session, rt=rt, actor=principal,
                                            code=code_at(enrolment.secret_grouped, when))
    session.commit()
    return enrolment.secret_grouped, codes
