"""Run the EU DCC 2D-code test vectors through our transport and COSE code.

Each .../2DCode/raw/*.json file (at any depth) lists EXPECTEDRESULTS; a key set to true means
that step must succeed, false that it must fail, absent that it is not tested.
Schema and key-usage checks are DCC business rules, outside the codec.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from cbor2 import CBORTag
from cryptography import x509

from passtrace.codec.base45 import Base45Error, b45decode
from passtrace.codec.cose import loads_strict, parse_sign1
from passtrace.codec.dcc import (
    CheckFailed,
    MissingInput,
    Vector,
    b64_any,
    dgc_of,
    hcert_payload,
    parse_instant,
    payload_difference,
)
from passtrace.codec.errors import PassRejected
from passtrace.codec.keys import TrustStore
from passtrace.codec.pipeline import verify_sign1
from passtrace.codec.qr import decode_qr_image
from passtrace.codec.transport import inflate, split_prefix, unwrap

Check = Callable[[Vector], None]
OUT_OF_SCOPE = frozenset(
    {"EXPECTEDSCHEMAVALIDATION", "EXPECTEDKEYUSAGE", "EXPECTEDVALIDOBJECT", "EXPECTEDENCODE"}
)


def _equal(got: bytes, vector: Vector, key: str, what: str) -> None:
    """Compare with a field when the vector has it (missing = nothing to compare)."""
    try:
        want = vector.hex(key)
    except MissingInput:
        return
    if got != want:
        raise CheckFailed(f"{what} differs from {key}")


def _cose(vector: Vector) -> Any:
    try:
        return parse_sign1(vector.hex("COSE"), require_tag=False)
    except PassRejected as exc:
        raise CheckFailed(f"COSE: {exc}") from None


def _cwt(payload: bytes) -> Any:
    try:
        return loads_strict(payload)
    except Exception as exc:  # cbor2 raises several types on malformed input
        raise CheckFailed(f"CWT payload is not CBOR: {exc}") from None


def _certificate(vector: Vector) -> tuple[bytes, x509.Certificate]:
    der = b64_any(vector.ctx_text("CERTIFICATE"))
    try:
        return der, x509.load_der_x509_certificate(der)
    except ValueError as exc:
        raise CheckFailed(f"certificate: {exc}") from None


def check_picture(vector: Vector) -> None:
    """2DCODE (base64 PNG) decodes with zxing-cpp to exactly PREFIX."""
    png = b64_any(vector.text("2DCODE"))
    try:
        texts = decode_qr_image(png)
    except Exception as exc:  # Pillow raises many types on a broken image
        raise CheckFailed(f"image unreadable: {exc}") from None
    if not texts:
        raise CheckFailed("no QR code found")
    try:
        prefix = vector.text("PREFIX")
    except MissingInput:
        return
    if prefix not in texts:
        raise CheckFailed("QR text differs from PREFIX")


def check_unprefix(vector: Vector) -> None:
    """PREFIX starts with a known prefix and the rest equals BASE45."""
    try:
        _, body = split_prefix(vector.text("PREFIX"))
    except PassRejected as exc:
        raise CheckFailed(str(exc)) from None
    try:
        base45 = vector.text("BASE45")
    except MissingInput:
        return
    if body != base45:
        raise CheckFailed("PREFIX without prefix differs from BASE45")


def check_b45decode(vector: Vector) -> None:
    """BASE45 decodes (strictly) to COMPRESSED."""
    try:
        raw = b45decode(vector.text("BASE45"))
    except Base45Error as exc:
        raise CheckFailed(f"Base45: {exc}") from None
    _equal(raw, vector, "COMPRESSED", "Base45-decoded bytes")


def check_compression(vector: Vector) -> None:
    """COMPRESSED inflates (zlib) to COSE."""
    try:
        cose = inflate(vector.hex("COMPRESSED"))
    except ValueError as exc:
        raise CheckFailed(str(exc)) from None
    _equal(cose, vector, "COSE", "inflated bytes")


def check_decode(vector: Vector) -> None:
    """CBOR decodes and means the same as JSON (and as the COSE payload, if given)."""
    cbor_payload = dgc_of(_cwt(vector.hex("CBOR")))
    try:
        expected = vector.json()
    except MissingInput:
        expected = None
    if expected is not None:
        diff = payload_difference(cbor_payload, expected)
        if diff:
            raise CheckFailed(f"CBOR vs JSON: {diff}")
    try:
        msg = _cose(vector)
    except MissingInput:
        return
    diff = payload_difference(hcert_payload(_cwt(msg.payload)), _as_json(cbor_payload))
    if diff:
        raise CheckFailed(f"COSE payload vs CBOR: {diff}")


def _as_json(value: Any) -> Any:
    """Make decoded CBOR comparable as the 'JSON' side (keys to text, tags kept)."""
    if isinstance(value, dict):
        return {str(k): _as_json(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_as_json(v) for v in value]
    if isinstance(value, CBORTag):
        return _as_json(value.value)
    if isinstance(value, datetime | date):
        return value.isoformat()
    return value


def check_verify(vector: Vector) -> None:
    """The COSE signature verifies with TESTCTX.CERTIFICATE (kid = SHA-256(cert)[:8])."""
    msg = _cose(vector)
    der, cert = _certificate(vector)
    trust = TrustStore()
    try:
        # DCC key ids hash the whole certificate, not the SPKI as PassTrace does.
        trust.add(cert.public_key(), kid=hashlib.sha256(der).digest()[:8])
    except ValueError as exc:
        raise CheckFailed(f"certificate key: {exc}") from None
    try:
        verify_sign1(msg, trust)
    except PassRejected as exc:
        raise CheckFailed(str(exc)) from None


def check_expiration(vector: Vector) -> None:
    """At VALIDATIONCLOCK the CWT is issued, not expired, and its certificate is valid."""
    clock = parse_instant(vector.ctx_text("VALIDATIONCLOCK"))
    cwt = _cwt(_cose(vector).payload)
    if not isinstance(cwt, dict):
        raise CheckFailed("CWT claims are not a map")
    now = clock.timestamp()
    exp, nbf, iat = cwt.get(4), cwt.get(5), cwt.get(6)
    for name, value in (("exp", exp), ("nbf", nbf), ("iat", iat)):
        if value is not None and (isinstance(value, bool) or not isinstance(value, int | float)):
            raise CheckFailed(f"{name} is not a number")
    if exp is None:
        raise CheckFailed("no exp claim")
    if now > exp:
        raise CheckFailed(f"expired at {datetime.fromtimestamp(exp, UTC).isoformat()}")
    if iat is not None and now < iat:
        raise CheckFailed(f"clock before issued-at {datetime.fromtimestamp(iat, UTC).isoformat()}")
    if nbf is not None and now < nbf:
        raise CheckFailed("clock before not-before")
    try:
        _, cert = _certificate(vector)
    except MissingInput:
        return
    if not cert.not_valid_before_utc <= clock <= cert.not_valid_after_utc:
        raise CheckFailed("signing certificate not valid at the validation clock")


def check_valid_json(vector: Vector) -> None:
    """The whole chain from PREFIX decodes and its payload means the same as JSON."""
    try:
        layers = unwrap(vector.text("PREFIX"))
        msg = parse_sign1(layers.cose, require_tag=False)
    except PassRejected as exc:
        raise CheckFailed(str(exc)) from None
    diff = payload_difference(hcert_payload(_cwt(msg.payload)), vector.json())
    if diff:
        raise CheckFailed(f"payload vs JSON: {diff}")


CHECKS: dict[str, Check] = {
    "EXPECTEDPICTUREDECODE": check_picture,
    "EXPECTEDUNPREFIX": check_unprefix,
    "EXPECTEDB45DECODE": check_b45decode,
    "EXPECTEDCOMPRESSION": check_compression,
    "EXPECTEDDECODE": check_decode,
    "EXPECTEDVERIFY": check_verify,
    "EXPECTEDEXPIRATIONCHECK": check_expiration,
    "EXPECTEDVALIDJSON": check_valid_json,
}


def find_vectors(directory: str | Path) -> list[Path]:
    """List every .../2DCode/raw/*.json at any depth under a directory (the upstream suite
    keeps some countries in versioned folders: PT/1.0.0/2DCode/raw/1.json), matching
    folder names case-insensitively."""
    root = Path(directory)
    return sorted(
        p
        for p in root.rglob("*")
        if p.suffix.lower() == ".json"
        and p.parent.name.lower() == "raw"
        and p.parent.parent.name.lower() == "2dcode"
        and p.is_file()
    )


def _run_one(check: Check, vector: Vector) -> tuple[str, str]:
    """Run a check; return ("ok"|"failed"|"missing", detail)."""
    try:
        check(vector)
    except MissingInput as exc:
        return "missing", f"input {exc.args[0]} absent"
    except CheckFailed as exc:
        return "failed", str(exc)
    except PassRejected as exc:
        return "failed", str(exc)
    except Exception as exc:  # a vector must never crash the run
        return "failed", f"{type(exc).__name__}: {exc}"
    return "ok", ""


def run_conformance(
    directory: str | Path, progress: Callable[[int, int, str], None] | None = None
) -> dict[str, Any]:
    """Check every vector; return {"total", "passed", "failed": [...], ...}."""
    root = Path(directory)
    files = find_vectors(root)
    failed: list[dict[str, str]] = []
    skipped: list[dict[str, str]] = []
    # found: vectors that state an expectation for the check; run = passed + failed;
    # skipped: the vector lacks an input the check needs.
    per_check = {name: {"found": 0, "run": 0, "passed": 0, "failed": 0, "skipped": 0}
                 for name in CHECKS}
    not_tested: dict[str, int] = {}
    passed = 0
    for index, path in enumerate(files, 1):
        name = path.relative_to(root).as_posix()
        if progress:
            progress(index, len(files), name)
        try:
            vector = Vector.load(path, name)
        except CheckFailed as exc:
            failed.append({"file": name, "check": "LOAD", "detail": str(exc)})
            continue
        ok = True
        for key in vector.bad_expectations:
            failed.append({"file": name, "check": key, "detail": "malformed expectation"})
            ok = False
        for key, expect in vector.expected.items():
            check = CHECKS.get(key)
            if check is None:
                not_tested[key] = not_tested.get(key, 0) + 1
                continue
            per_check[key]["found"] += 1
            outcome, detail = _run_one(check, vector)
            if outcome != "missing":
                per_check[key]["run"] += 1
            if outcome == "missing":
                per_check[key]["skipped"] += 1
                skipped.append({"file": name, "check": key, "detail": detail})
            elif (outcome == "ok") == expect:
                per_check[key]["passed"] += 1
            else:
                per_check[key]["failed"] += 1
                ok = False
                why = detail if expect else "succeeded but the vector expects a failure"
                failed.append({"file": name, "check": key, "detail": why})
        passed += ok
    return {
        "total": len(files),
        "passed": passed,
        "failed": failed,
        "skipped": skipped,
        "checks": per_check,
        "not_tested": dict(sorted(not_tested.items())),
    }
