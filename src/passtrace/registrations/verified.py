"""Pass texts already verified, so a text's signature is checked once, not at every scan.

A resident shows the same pass text at every checkpoint for weeks, and a device's
batch carries it once per scan; an ECDSA verification costs about as much CPU as the
rest of a check. What verify_pass answers depends only on the text and the trust
store's keys (each key, its algorithm, its end and retirement), never on the clock,
so it is kept per set of keys, keyed by the exact text. The trust store is rebuilt
every few seconds (registrations.service): a rebuilt store with the same keys keeps
the answers, and one with a key added, retired or dropped starts empty. The checks
that change with time or with the server's records are made on every scan: the
pass's window and the key's end (codec.check_at), and the pass's revocation, which
is read from the database. A trust store is not changed once it serves scans
(passes.keyring builds a new one), so its keys are read once per store.
"""

from __future__ import annotations

import weakref
from typing import Any

from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from passtrace.codec import PassClaims, PassRejected, TrustedKey, TrustStore, verify_pass

# Distinct texts kept per set of keys; past that the memo starts over (a flood of
# forged texts costs verifications, never memory). Sets of keys kept: the current
# one and a few before it (a key change while scans are in flight).
MAX_TEXTS = 20_000
MAX_KEY_SETS = 4

_Answer = tuple[PassClaims, TrustedKey] | tuple[str, str]
_KeySet = tuple[tuple[Any, ...], ...]
_key_sets: weakref.WeakKeyDictionary[TrustStore, _KeySet] = weakref.WeakKeyDictionary()
_memos: dict[_KeySet, dict[str, _Answer]] = {}


def _key_set(trust: TrustStore) -> _KeySet:
    """What a trust store's verdicts depend on: every key and its limits."""
    found = _key_sets.get(trust)
    if found is None:
        entries = [trust.entry(kid) for kid in trust]
        found = tuple(sorted(
            (e.kid, e.alg_id, e.not_after, e.retired_at, e.public_key.public_bytes(
                Encoding.DER, PublicFormat.SubjectPublicKeyInfo))
            for e in entries if e is not None))
        _key_sets[trust] = found
    return found


def _memo(trust: TrustStore) -> dict[str, _Answer]:
    keys = _key_set(trust)
    memo = _memos.get(keys)
    if memo is None:
        if len(_memos) >= MAX_KEY_SETS:
            _memos.clear()
        memo = _memos.setdefault(keys, {})
    return memo


def verify(text: str, trust: TrustStore) -> tuple[PassClaims, TrustedKey]:
    """verify_pass(text, trust), remembered; raises PassRejected as it does."""
    memo = _memo(trust)
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


def answers(trust: TrustStore) -> int:
    """How many texts are remembered for a trust store's keys (for tests)."""
    return len(_memos.get(_key_set(trust), ()))
