"""Signed trust lists and incremental revocation lists for offline checkpoints.

Both are a tagged COSE_Sign1 (same code path as a pass) whose payload is a
CBOR map with a "typ" field, sent as unpadded base64url text. The root key
signs trust lists, offline; a trust list names the key that signs revocation
lists ("rl"), which the server holds so a revocation reaches checkpoints at once.
A checkpoint knows only the root public key in advance.
"""

from __future__ import annotations

import base64
import binascii
import uuid
from collections.abc import Iterable, Iterator
from typing import Any

from cbor2 import dumps

from passtrace.codec.cose import encode_sign1, loads_strict, parse_sign1
from passtrace.codec.errors import PassRejected
from passtrace.codec.keys import (
    ALG_IDS,
    ALG_NAMES,
    SigningKey,
    TrustStore,
    alg_for,
    kid_for,
    load_public_key,
)
from passtrace.codec.pipeline import verify_sign1

TRUST_LIST_TYPE = "PT-TL"
REVOCATION_LIST_TYPE = "PT-RL"
# The passes of people whose health status is not green (docs/security.md, "Status list").
STATUS_LIST_TYPE = "PT-SL"
STATUS_LEVELS = {"yellow": 2, "red": 3}


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64url(text: str) -> bytes:
    try:
        return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except (binascii.Error, ValueError) as exc:
        raise PassRejected("bad_cose", f"not base64url: {exc}") from None


def _sign_doc(payload: dict[str, Any], signer: SigningKey) -> str:
    return _b64url(encode_sign1(dumps(payload), signer))


def _open_doc(doc: str, root_public_key: Any, typ: str) -> dict[str, Any]:
    """Verify a signed list against the root key and return its payload map."""
    if not isinstance(doc, str):
        raise PassRejected("bad_cose", "document must be text")
    msg = parse_sign1(_unb64url(doc.strip()))
    root = TrustStore()
    root.add(load_public_key(root_public_key))
    verify_sign1(msg, root)  # same checks as a pass: alg, kid (the root's), signature
    try:
        body = loads_strict(msg.payload)
    except Exception as exc:
        raise PassRejected("bad_claims", f"payload is not CBOR: {exc}") from None
    if not isinstance(body, dict) or body.get("typ") != typ:
        raise PassRejected("bad_claims", f"not a {typ} document")
    for name in ("v", "iat"):
        if type(body.get(name)) is not int:
            raise PassRejected("bad_claims", f"{name} must be an integer")
    return body


def _key_entry(item: dict[str, Any]) -> dict[str, Any]:
    der = base64.b64decode(item["public_key_der_b64"])
    key = load_public_key(der)
    alg = item.get("alg") or alg_for(key)
    if alg != alg_for(key):
        raise ValueError(f"kid {item.get('kid')}: alg {alg} does not fit the key")
    kid = bytes.fromhex(item["kid"]) if item.get("kid") else kid_for(key)
    return {"kid": kid, "alg": ALG_IDS[alg], "key": der}


def sign_trust_list(
    keys: list[dict[str, Any]], signer: SigningKey, *, version: int, issued_at: int,
    revocation_key: dict[str, Any] | None = None,
    previous_revocation_keys: list[dict[str, Any]] | None = None,
) -> str:
    """Sign the list of pass-verification keys; entries as `verify_trust_list` returns them.

    `revocation_key` (kid, alg, public_key_der_b64): the key revocation lists are signed
    with; without one, checkpoints check revocation lists with the root key itself.
    `previous_revocation_keys` (the same plus not_after): list keys replaced by a rotation,
    still good for the lists they signed until not_after ("rlp").
    """
    entries = []
    for item in keys:
        entry = _key_entry(item)
        if item.get("not_after") is not None:
            entry["na"] = int(item["not_after"])
        if item.get("retired_at") is not None:
            entry["ra"] = int(item["retired_at"])
        entries.append(entry)
    body: dict[str, Any] = {"typ": TRUST_LIST_TYPE, "v": version, "iat": issued_at,
                            "keys": entries}
    if revocation_key is not None:
        body["rl"] = _key_entry(revocation_key)
    if previous_revocation_keys:
        body["rlp"] = [{**_key_entry(k), "na": int(k["not_after"])}
                       for k in previous_revocation_keys]
    return _sign_doc(body, signer)


def verify_trust_list(doc: str, root_public_key: Any) -> dict[str, Any]:
    """Verify a trust list with the root key; return {"version", "issued_at", "keys"}."""
    body = _open_doc(doc, root_public_key, TRUST_LIST_TYPE)
    raw_keys = body.get("keys")
    if not isinstance(raw_keys, list):
        raise PassRejected("bad_claims", "keys must be a list")
    keys = []
    for entry in raw_keys:
        if not isinstance(entry, dict):
            raise PassRejected("bad_claims", "key entry is not a map")
        kid, alg, der, not_after = (
            entry.get("kid"),
            entry.get("alg"),
            entry.get("key"),
            entry.get("na"),
        )
        if not (isinstance(kid, bytes) and isinstance(der, bytes)):
            raise PassRejected("bad_claims", "kid and key must be byte strings")
        if type(alg) is not int or alg not in ALG_NAMES:  # may be unhashable
            raise PassRejected("unsupported_alg", f"alg {alg!r} for kid {kid.hex()}")
        if not_after is not None and type(not_after) is not int:
            raise PassRejected("bad_claims", "not_after must be an integer")
        retired_at = entry.get("ra")
        if retired_at is not None and type(retired_at) is not int:
            raise PassRejected("bad_claims", "retired_at must be an integer")
        try:
            fits = alg_for(load_public_key(der)) == ALG_NAMES[alg]
        except ValueError as exc:
            raise PassRejected("bad_claims", f"kid {kid.hex()}: {exc}") from None
        if not fits:
            raise PassRejected("bad_claims", f"kid {kid.hex()}: alg does not fit the key")
        keys.append(
            {
                "kid": kid.hex(),
                "alg": ALG_NAMES[alg],
                "public_key_der_b64": base64.b64encode(der).decode("ascii"),
                "not_after": not_after,
                "retired_at": retired_at,
            }
        )
    previous = body.get("rlp", [])
    if not isinstance(previous, list):
        raise PassRejected("bad_claims", "rlp is not a list")
    old = []
    for entry in previous:
        key = _revocation_key(entry)
        not_after = entry.get("na") if isinstance(entry, dict) else None
        if key is None or type(not_after) is not int:
            raise PassRejected("bad_claims", "rlp entries need a key and na")
        old.append({**key, "not_after": not_after})
    out = {"version": body["v"], "issued_at": body["iat"], "keys": keys,
           "revocation_key": _revocation_key(body.get("rl"))}
    if old:  # only after a list-key rotation: older lists keep their exact shape
        out["previous_revocation_keys"] = old
    return out


def revocation_key_for(doc: str, trust: dict[str, Any], now: int) -> Any:
    """The public key a verified trust list gives for this revocation list: the current
    list key, or a replaced one until its not_after (PassRejected "unknown_kid" if none)."""
    kid = parse_sign1(_unb64url(doc.strip())).kid
    kid_hex = kid.hex() if isinstance(kid, bytes) else None
    current = trust.get("revocation_key")
    if current is not None and current["kid"] == kid_hex:
        return base64.b64decode(current["public_key_der_b64"])
    for old in trust.get("previous_revocation_keys", []):
        if old["kid"] == kid_hex and now <= old["not_after"]:
            return base64.b64decode(old["public_key_der_b64"])
    raise PassRejected("unknown_kid", "no key of the trust list signed this revocation list")


def _revocation_key(entry: Any) -> dict[str, Any] | None:
    """The trust list's revocation-list key, checked like a pass key entry."""
    if entry is None:
        return None
    if not isinstance(entry, dict):
        raise PassRejected("bad_claims", "rl is not a map")
    kid, alg, der = entry.get("kid"), entry.get("alg"), entry.get("key")
    if not (isinstance(kid, bytes) and isinstance(der, bytes)):
        raise PassRejected("bad_claims", "rl kid and key must be byte strings")
    if type(alg) is not int or alg not in ALG_NAMES:
        raise PassRejected("unsupported_alg", f"alg {alg!r} for the revocation key")
    try:
        fits = alg_for(load_public_key(der)) == ALG_NAMES[alg]
    except ValueError as exc:
        raise PassRejected("bad_claims", f"revocation key: {exc}") from None
    if not fits:
        raise PassRejected("bad_claims", "revocation key: alg does not fit the key")
    return {"kid": kid.hex(), "alg": ALG_NAMES[alg],
            "public_key_der_b64": base64.b64encode(der).decode("ascii")}


def sign_revocation_list(
    revoked: Iterable[dict[str, Any]],
    signer: SigningKey,
    *,
    version: int,
    issued_at: int,
    since: int = 0,
    complete: bool = True,
) -> str:
    """Sign the revocations after list version `since` (0 = all still unexpired)."""
    ids = [[uuid.UUID(item["pass_id"]).bytes, int(item["expires_at"])] for item in revoked]
    body = {
        "typ": REVOCATION_LIST_TYPE,
        "v": version,
        "since": since,
        "iat": issued_at,
        "complete": complete,
        "ids": ids,
    }
    return _sign_doc(body, signer)


def verify_revocation_list(doc: str, root_public_key: Any) -> dict[str, Any]:
    """Verify a revocation list with the trust list's revocation key (or the root).

    Returns {"version", "since", "issued_at", "complete", "revoked"}.
    """
    body = _open_doc(doc, root_public_key, REVOCATION_LIST_TYPE)
    since, complete, ids = body.get("since"), body.get("complete"), body.get("ids")
    if type(since) is not int or not isinstance(complete, bool) or not isinstance(ids, list):
        raise PassRejected("bad_claims", "since, complete or ids malformed")
    revoked = []
    for item in ids:
        if not (
            isinstance(item, list)
            and len(item) == 2
            and isinstance(item[0], bytes)
            and len(item[0]) == 16
            and type(item[1]) is int
        ):
            raise PassRejected("bad_claims", "revocation entry malformed")
        revoked.append({"pass_id": str(uuid.UUID(bytes=item[0])), "expires_at": item[1]})
    return {
        "version": body["v"],
        "since": since,
        "issued_at": body["iat"],
        "complete": complete,
        "revoked": revoked,
    }


def sign_status_list(entries: Iterable[tuple[str, str]], signer: SigningKey, *,
                     version: int, issued_at: int,
                     people: Iterable[tuple[bytes, str]] = ()) -> str:
    """Sign the complete status list: (pass id, "yellow"|"red") for every live pass whose
    holder is not green, and (status reference, level) for every person who is not green
    (the reference a status code carries, codec/status.py). Complete every time (a person
    turning green must drop out)."""
    body = {"typ": STATUS_LIST_TYPE, "v": version, "iat": issued_at,
            "s": [[uuid.UUID(pid).bytes, STATUS_LEVELS[level]] for pid, level in entries],
            "p": [[ref, STATUS_LEVELS[level]] for ref, level in people]}
    return _sign_doc(body, signer)


def verify_status_list(doc: str, public_key: Any) -> dict[str, Any]:
    """Verify a status list with the trust list's revocation-list key.

    Returns {"version", "issued_at", "statuses": {pass id: "yellow"|"red"},
    "people": {status reference hex: "yellow"|"red"}}.
    """
    body = _open_doc(doc, public_key, STATUS_LIST_TYPE)
    names = {code: name for name, code in STATUS_LEVELS.items()}
    items = body.get("s")
    if not isinstance(items, list):
        raise PassRejected("bad_claims", "s must be a list")
    statuses: dict[str, str] = {}
    for item in items:
        if not (isinstance(item, list) and len(item) == 2 and isinstance(item[0], bytes)
                and len(item[0]) == 16 and type(item[1]) is int and item[1] in names):
            raise PassRejected("bad_claims", "status entry malformed")
        statuses[str(uuid.UUID(bytes=item[0]))] = names[item[1]]
    people: dict[str, str] = {}
    for item in body.get("p", []) if isinstance(body.get("p", []), list) else [None]:
        if not (isinstance(item, list) and len(item) == 2 and isinstance(item[0], bytes)
                and len(item[0]) == 16 and type(item[1]) is int and item[1] in names):
            raise PassRejected("bad_claims", "status entry malformed")
        people[item[0].hex()] = names[item[1]]
    return {"version": body["v"], "issued_at": body["iat"], "statuses": statuses,
            "people": people}


class RevocationSet:
    """A checkpoint's revoked pass ids, fed by verified (incremental) lists."""

    def __init__(self) -> None:
        self.version = 0
        self._expires: dict[str, int] = {}

    def apply(self, revocation_list: dict[str, Any]) -> None:
        """Merge a verified list; refuse one that leaves a gap after our version."""
        if revocation_list["since"] > self.version:
            raise ValueError(
                f"list starts after version {revocation_list['since']}, we have {self.version}"
            )
        for item in revocation_list["revoked"]:
            self._expires[item["pass_id"]] = item["expires_at"]
        self.version = max(self.version, revocation_list["version"])

    def prune(self, now: int) -> int:
        """Forget passes that have expired anyway; return how many were dropped."""
        gone = [pid for pid, exp in self._expires.items() if exp < now]
        for pid in gone:
            del self._expires[pid]
        return len(gone)

    def __contains__(self, pass_id: object) -> bool:
        return pass_id in self._expires

    def __iter__(self) -> Iterator[str]:
        return iter(self._expires)

    def __len__(self) -> int:
        return len(self._expires)
