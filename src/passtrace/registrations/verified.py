"""Pass texts already verified, so a text's signature is checked once, not at every scan.

A resident shows the same pass text at every checkpoint for weeks, and a device's
batch carries it once per scan; an ECDSA verification costs about as much CPU as the
rest of a check. What verify_pass answers depends only on the text and the trust
store (keys, their retirement), never on the clock, so it is kept per trust store
object, keyed by the exact text: a new trust store (a key added or retired, or the
few-second cache refreshed) starts empty. The checks that do change with time or
with the server's records are made on every scan: the pass's window and the key's
end (codec.check_at), and the pass's revocation, which is read from the database.
"""

from __future__ import annotations

import weakref
from typing import Any

from passtrace.codec import PassClaims, PassRejected, TrustedKey, TrustStore, verify_pass

# Distinct texts kept per trust store; past that the memo starts over (a flood of
# forged texts costs verifications, never memory).
MAX_TEXTS = 20_000

_Answer = tuple[PassClaims, TrustedKey] | tuple[str, str]
_memos: weakref.WeakKeyDictionary[TrustStore, dict[str, _Answer]] = (
    weakref.WeakKeyDictionary())


def verify(text: str, trust: TrustStore) -> tuple[PassClaims, TrustedKey]:
    """verify_pass(text, trust), remembered; raises PassRejected as it does."""
    memo = _memos.get(trust)
    if memo is None:
        memo = _memos.setdefault(trust, {})
    found = memo.get(text)
    if found is None:
        try:
            found = verify_pass(text, trust)
        except PassRejected as exc:
            found = (exc.reason, exc.detail)
        if len(memo) >= MAX_TEXTS:
            memo.clear()
        memo[text] = found
    if found[0].__class__ is str:
        raise PassRejected(*found)
    return found  # type: ignore[return-value]


def answers(trust: Any) -> int:
    """How many texts are remembered for a trust store (for tests)."""
    return len(_memos.get(trust, ()))
