"""A leaked or misused pass key: what it mints after retirement, or at all once revoked,
is refused (online, an unknown signed pass: tests/registrations/test_hostile_passes.py)."""

from __future__ import annotations

import time
import uuid

import pytest
from sqlalchemy import select

from passtrace.codec import PassClaims, PassRejected, decode_pass, encode_pass
from passtrace.core.errors import InvalidState
from passtrace.passes import keyring
from passtrace.passes.models import Pass, Revocation
from tests.passes.helpers import apply, approve


def _minted(key, issued_at: int) -> str:  # type: ignore[no-untyped-def]
    """A pass nobody issued, signed with a real key (as a thief of the key would)."""
    return encode_pass(PassClaims(pass_id=str(uuid.uuid4()), holder="李*", id_last4="0000",
                                  purpose="commute", valid_from=issued_at - 60,
                                  valid_until=issued_at + 86400, issued_at=issued_at,
                                  issuer="thief"), key)


def test_a_retired_key_cannot_mint_accepted_passes(session, rt):
    old_key = keyring.current_signer(session=session, vault=rt.vault)
    now = int(time.time())
    before = _minted(old_key, now - 10)
    keyring.rotate(session=session, vault=rt.vault, actor=None, retire_old=True)
    retired = next(k for k in keyring.list_keys(session=session) if k.kid == old_key.kid.hex())
    # As if its last pass expired in a year: it keeps verifying until then.
    retired.verify_until = retired.retired_at.replace(year=retired.retired_at.year + 1)
    session.flush()
    trust = keyring.trust_store(session=session)
    assert decode_pass(before, trust, now=now).issuer == "thief"  # signed before: fine
    after = _minted(old_key, now + 5)
    with pytest.raises(PassRejected) as exc:  # was accepted until verify_until
        decode_pass(after, trust, now=now + 6)
    assert exc.value.reason == "key_retired"
    entries = keyring.trust_list_entries(session=session)
    assert next(e for e in entries if e["kid"] == old_key.kid.hex())["retired_at"] is not None


def test_revoking_a_key_distrusts_it_and_revokes_its_passes(client, make_persona, session,
                                                            rt):
    official = make_persona("official", "area", "520102")
    resident = make_persona("public", name="张三")
    p = apply(client, resident.headers)
    approved = approve(client, p["id"], official.headers, resident.headers)
    kid = session.get(Pass, uuid.UUID(approved["id"])).kid
    count = keyring.revoke(session=session, actor=None, kid=kid, reason="key leaked")
    assert count >= 1
    session.expire_all()
    assert session.get(Pass, uuid.UUID(approved["id"])).status == "revoked"
    assert session.scalar(select(Revocation.pass_id).where(
        Revocation.pass_id == uuid.UUID(approved["id"]))) is not None
    assert kid not in {e["kid"] for e in keyring.trust_list_entries(session=session)}
    with pytest.raises(PassRejected):
        decode_pass(approved["token"], keyring.trust_store(session=session),
                    now=int(time.time()))
    # New passes are signed with a fresh key.
    assert keyring.current_signer(session=session, vault=rt.vault).kid.hex() != kid
    with pytest.raises(InvalidState):
        keyring.revoke(session=session, actor=None, kid=kid, reason="key leaked")
