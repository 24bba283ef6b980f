"""Rate limits for sign-up and binding, counted in the database (shared by all workers).

Every attempt counts, successful or not, per client address and per ID number, in
one-hour windows. The answer when a limit is reached is the same whether or not the
ID number has a person record or an account, so the limit itself reveals nothing.
"""

from __future__ import annotations

import hashlib
from datetime import datetime, timedelta

from sqlalchemy import delete, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from passtrace.accounts.models import IdentityAttempt
from passtrace.core.clock import utcnow
from passtrace.core.errors import RateLimited
from passtrace.core.pii import PiiVault
from passtrace.core.validators import InvalidValue, validate_id_number

KEEP = timedelta(days=1)  # counts older than this are of no further use
PER_ADDRESS = 20  # an office behind one NAT signs up a handful of people an hour
PER_ID_NUMBER = 5  # a person mistyping a code a few times; not enough to guess one


def _window_start(now: datetime) -> datetime:
    return now.replace(minute=0, second=0, microsecond=0)


def _key_hash(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def bump(*, session: Session, key: str, now: datetime | None = None) -> int:
    """Count one attempt for a key in the current window; return the window's count.

    Race: concurrent attempts must not lose counts. The increment is one UPDATE
    (count = count + 1, atomic in the database, no read in Python); the first attempt
    of a window inserts, and the unique (key, window) constraint makes a concurrent
    second insert fail, after which it increments the winner's row.
    """
    start = _window_start(now or utcnow())
    digest = _key_hash(key)
    where = (IdentityAttempt.key_hash == digest, IdentityAttempt.window_start == start)
    for _ in range(2):
        done = session.execute(update(IdentityAttempt).where(*where)
                               .values(count=IdentityAttempt.count + 1))
        if done.rowcount:  # type: ignore[attr-defined]
            break
        try:
            with session.begin_nested():
                # A key's first attempt this hour also clears windows older than a day
                # (indexed by window_start), so the table stays small without a job.
                session.execute(delete(IdentityAttempt).where(
                    IdentityAttempt.window_start < start - KEEP))
                session.add(IdentityAttempt(key_hash=digest, window_start=start, count=1))
            break
        except IntegrityError:
            continue  # another attempt inserted the window's row first: increment it
    return session.scalar(select(IdentityAttempt.count).where(*where)) or 0


def keys_for(vault: PiiVault, ip: str | None, id_number: str | None) -> list[tuple[str, int]]:
    """The (key, limit) pairs one attempt counts against."""
    keys = [(f"ip:{ip or '-'}", PER_ADDRESS)]
    if id_number:
        try:
            clean = validate_id_number(id_number)
        except InvalidValue:
            clean = None  # a bad number is refused later, with its own message
        if clean:
            keys.append((f"id:{vault.lookup_hash(clean)}", PER_ID_NUMBER))
    return keys


def check(*, session: Session, vault: PiiVault, ip: str | None, id_number: str | None) -> None:
    """Count a sign-up or binding attempt and commit the count; refuse it past a limit.

    Called first by the sign-up and binding entry points, before they change anything.
    It commits: an attempt counts against every key even when it is refused or fails
    later (a refusal raised before the commit was rolled back with the request, so the
    attempt that hit a limit, and its count against the other keys, were lost). The
    answer is the same for every ID number.
    """
    over = False
    for key, limit in keys_for(vault, ip, id_number):
        over = bump(session=session, key=key) > limit or over
    session.commit()
    if over:
        raise RateLimited("Too many sign-up or binding attempts. Please wait an hour and "
                          "try again.")

