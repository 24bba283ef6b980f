"""Login throttling: backoff per (login name, address), never a lockout.

Design, chosen so that nobody can use the throttle to lock a victim out:

- The main count is per (login name, client address) pair. A pair gets
  ``free`` failures (PASSTRACE_LOGIN_MAX_FAILURES); from then on each attempt must
  wait ``BASE_DELAY * 2**(failures - free)`` seconds after the last failure, capped at
  MAX_DELAY. Only that pair waits: the same official logging in from another
  address (home, another office) is not affected, so an attacker hammering a name
  from elsewhere slows down only themselves.
- A second count is per address, across all names. Past ADDRESS_FREE_FACTOR x
  ``free`` failures (50 by default) the address is "hot": from then on, every name
  there loses its free failures, so the first wrong password for any name from that
  address already starts its backoff. A name that has never failed from that
  address is not delayed at all, so the colleagues behind a NAT keep logging in
  while a script there sprays made-up names (it gets one guess per name, then waits).
- A good login clears its pair's count (not the address's: one account on a shared
  address must not be able to wipe the count a sprayer built up).
- Counts are forgotten after FORGET_AFTER without a failure, so a delay is bounded
  both by MAX_DELAY and by time; rows older than that are deleted as new ones come.

The counts live in the database (login_failures) so every worker shares them; keys
are hashed, so the table holds no login name or address.
"""

from __future__ import annotations

import hashlib
import math
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import case, delete, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from passtrace.accounts.models import LoginFailure
from passtrace.core.clock import utcnow
from passtrace.core.errors import RateLimited

BASE_DELAY = 1.0  # seconds after the first failure past the allowance
MAX_DELAY = 15 * 60.0  # a slowed user never waits longer than this
FORGET_AFTER = timedelta(hours=24)
ADDRESS_FREE_FACTOR = 10  # an office behind one NAT mistypes far more often than one user


@dataclass(frozen=True)
class Keys:
    """The two counters one login attempt reads and, when it fails, bumps."""

    pair: str
    address: str


def keys_for(username: str, ip: str | None) -> Keys:
    """The hashed counter keys of a login attempt (login names are case-insensitive)."""
    name, addr = username.strip().lower(), ip or "-"
    return Keys(pair=_digest(f"pair:{name}|{addr}"), address=_digest(f"ip:{addr}"))


def _digest(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def delay_for(failures: int, free: int) -> float:
    """Seconds to wait after the last failure, given the count and the free allowance."""
    extra = failures - free
    if extra < 0:
        return 0.0
    return min(BASE_DELAY * 2 ** min(extra, 40), MAX_DELAY)


def _counts(session: Session, keys: Keys, now: datetime) -> dict[str, LoginFailure]:
    rows = session.scalars(select(LoginFailure).where(
        LoginFailure.key_hash.in_((keys.pair, keys.address)),
        LoginFailure.last_failure_at >= now - FORGET_AFTER))
    return {r.key_hash: r for r in rows}


def wait_seconds(*, session: Session, keys: Keys, free: int,
                 now: datetime | None = None) -> int:
    """How long this (name, address) must still wait before its next try (0: go ahead)."""
    now = now or utcnow()
    rows = _counts(session, keys, now)
    pair, address = rows.get(keys.pair), rows.get(keys.address)
    if pair is None:
        return 0  # never failed from here (lately): never delayed, even from a hot address
    hot = address is not None and address.failures >= free * ADDRESS_FREE_FACTOR
    delay = delay_for(pair.failures, 0 if hot else free)
    left = (pair.last_failure_at + timedelta(seconds=delay) - now).total_seconds()
    return max(0, math.ceil(left))


def check(*, session: Session, keys: Keys, free: int) -> None:
    """Refuse the attempt (before any password hashing) while its pair must wait."""
    wait = wait_seconds(session=session, keys=keys, free=free)
    if wait > 0:
        raise too_many(wait)


def too_many(wait: int) -> RateLimited:
    """The refusal, telling how long to wait (translated; Retry-After in seconds)."""
    if wait < 120:
        exc = RateLimited("Too many failed logins from here. Please wait %(seconds)s seconds "
                          "and try again.", seconds=wait)
    else:
        exc = RateLimited("Too many failed logins from here. Please wait %(minutes)s minutes "
                          "and try again.", minutes=math.ceil(wait / 60))
    exc.retry_after = wait
    return exc


def record_failure(*, session: Session, keys: Keys, now: datetime | None = None) -> None:
    """Count one failed login against its pair and its address."""
    now = now or utcnow()
    for key in (keys.pair, keys.address):
        bump(session=session, key_hash=key, now=now)


def bump(*, session: Session, key_hash: str, now: datetime) -> int:
    """Add one failure to a key; return its count.

    Race: two workers counting failures for the same key at once must not lose one
    (a read-then-write in Python would let both write n+1). The increment is a single
    UPDATE evaluated by the database (failures = failures + 1, or 1 when the last
    failure is older than FORGET_AFTER), which PostgreSQL serialises with a row lock
    and SQLite with its write lock. The first failure inserts; the unique key_hash
    constraint turns a concurrent second insert into an IntegrityError, after which
    the loser increments the winner's row.
    """
    stale = LoginFailure.last_failure_at < now - FORGET_AFTER
    for _ in range(2):
        done = session.execute(
            update(LoginFailure).where(LoginFailure.key_hash == key_hash).values(
                failures=case((stale, 1), else_=LoginFailure.failures + 1),
                last_failure_at=now))
        if done.rowcount:  # type: ignore[attr-defined]
            break
        try:
            with session.begin_nested():
                # Each new key also clears forgotten ones (indexed), so no job is needed.
                session.execute(delete(LoginFailure).where(
                    LoginFailure.last_failure_at < now - FORGET_AFTER))
                session.add(LoginFailure(key_hash=key_hash, failures=1, last_failure_at=now))
            break
        except IntegrityError:
            continue  # another worker inserted this key first: increment its row
    return session.scalar(select(LoginFailure.failures)
                          .where(LoginFailure.key_hash == key_hash)) or 0


def clear_pair(*, session: Session, keys: Keys) -> None:
    """Forget a pair's failures after a good login (the address count stays)."""
    session.execute(delete(LoginFailure).where(LoginFailure.key_hash == keys.pair))
