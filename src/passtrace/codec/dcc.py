"""Helpers for the EU DCC test vectors: loading untidy files and comparing payloads."""

from __future__ import annotations

import base64
import binascii
import json
import math
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from cbor2 import CBORTag

HCERT_CLAIM = -260  # CWT claim holding {1: <DGC payload>}


class MissingInput(Exception):
    """The vector lacks a field the check reads: the check is not applicable."""


class CheckFailed(Exception):
    """The check ran and the data did not pass it."""


def _upper_keys(value: Any) -> dict[str, Any]:
    return {str(k).upper(): v for k, v in value.items()} if isinstance(value, dict) else {}


def _as_bool(value: Any) -> bool | None:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in ("true", "false"):
        return value.strip().lower() == "true"
    return None


@dataclass
class Vector:
    """One test-vector file with case-insensitive access to its fields."""

    name: str
    fields: dict[str, Any]
    ctx: dict[str, Any]
    expected: dict[str, bool]
    bad_expectations: list[str] = field(default_factory=list)

    @classmethod
    def load(cls, path: Path, name: str) -> Vector:
        """Read a vector file; raise CheckFailed when it is not a JSON object."""
        try:
            data = json.loads(path.read_text(encoding="utf-8-sig"))
        except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise CheckFailed(f"unreadable vector: {exc}") from None
        if not isinstance(data, dict):
            raise CheckFailed("vector is not a JSON object")
        fields = _upper_keys(data)
        expected: dict[str, bool] = {}
        bad: list[str] = []
        if not isinstance(fields.get("EXPECTEDRESULTS", {}), dict):
            bad.append("EXPECTEDRESULTS")
        for key, value in _upper_keys(fields.get("EXPECTEDRESULTS")).items():
            flag = _as_bool(value)
            if flag is None:
                bad.append(key)
            else:
                expected[key] = flag
        return cls(name, fields, _upper_keys(fields.get("TESTCTX")), expected, bad)

    def _raw(self, key: str, source: dict[str, Any]) -> Any:
        value = source.get(key)
        if value is None or (isinstance(value, str) and not value.strip()):
            raise MissingInput(key)
        return value

    def text(self, key: str) -> str:
        """Return a text field; MissingInput if absent or blank."""
        value = self._raw(key, self.fields)
        if not isinstance(value, str):
            raise CheckFailed(f"{key} is not text")
        return value

    def hex(self, key: str) -> bytes:
        """Return a hex field as bytes; CheckFailed if it is not hex."""
        value = self.text(key)
        try:
            return bytes.fromhex("".join(value.split()))
        except ValueError:
            raise CheckFailed(f"{key} is not valid hex") from None

    def json(self) -> Any:
        """Return the JSON field (the expected DGC payload)."""
        return self._raw("JSON", self.fields)

    def ctx_text(self, key: str) -> str:
        """Return a TESTCTX text field."""
        value = self._raw(key, self.ctx)
        if not isinstance(value, str):
            raise CheckFailed(f"TESTCTX.{key} is not text")
        return value


def b64_any(text: str) -> bytes:
    """Decode base64 (standard or URL-safe, padding optional, data: URLs allowed)."""
    if text.startswith("data:") and "," in text:
        text = text.split(",", 1)[1]
    text = "".join(text.split())
    try:
        return base64.b64decode(
            text + "=" * (-len(text) % 4),
            altchars=b"-_" if ("-" in text or "_" in text) else None,
            validate=True,
        )
    except (binascii.Error, ValueError) as exc:
        raise CheckFailed(f"bad base64: {exc}") from None


def parse_instant(text: str) -> datetime:
    """Parse an ISO 8601 timestamp; a missing zone means UTC."""
    try:
        moment = datetime.fromisoformat(text.strip())
    except ValueError:
        raise CheckFailed(f"not an ISO 8601 timestamp: {text!r}") from None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _instant_or_none(text: str) -> datetime | None:
    try:
        return parse_instant(text)
    except CheckFailed:
        return None


def payload_difference(cbor_value: Any, json_value: Any, path: str = "$") -> str | None:
    """Compare decoded CBOR with JSON by meaning; return where they differ, or None."""
    if isinstance(cbor_value, CBORTag):
        return payload_difference(cbor_value.value, json_value, path)  # unknown tag: content
    if isinstance(cbor_value, dict):
        if not isinstance(json_value, dict):
            return f"{path}: map vs {type(json_value).__name__}"
        left = {str(k): v for k, v in cbor_value.items()}
        if set(left) != set(json_value):
            return f"{path}: keys {sorted(set(left) ^ set(json_value))} differ"
        for key, value in left.items():
            diff = payload_difference(value, json_value[key], f"{path}.{key}")
            if diff:
                return diff
        return None
    if isinstance(cbor_value, list | tuple):
        if not isinstance(json_value, list) or len(json_value) != len(cbor_value):
            return f"{path}: array length/type differs"
        for i, (a, b) in enumerate(zip(cbor_value, json_value, strict=True)):
            diff = payload_difference(a, b, f"{path}[{i}]")
            if diff:
                return diff
        return None
    if isinstance(cbor_value, datetime):  # tag 0/1 (DCC "sc" may be tagged)
        other = _instant_or_none(json_value) if isinstance(json_value, str) else None
        return None if other == cbor_value else f"{path}: {cbor_value} vs {json_value!r}"
    if isinstance(cbor_value, date):  # tag 1004 full-date
        ok = isinstance(json_value, str) and json_value == cbor_value.isoformat()
        return None if ok else f"{path}: {cbor_value} vs {json_value!r}"
    if isinstance(cbor_value, bool) or isinstance(json_value, bool):
        return None if cbor_value is json_value else f"{path}: {cbor_value!r} vs {json_value!r}"
    if isinstance(cbor_value, int | float) and isinstance(json_value, int | float):
        same = cbor_value == json_value or math.isclose(cbor_value, json_value, rel_tol=1e-9)
        return None if same else f"{path}: {cbor_value!r} vs {json_value!r}"
    if type(cbor_value) is type(json_value) and cbor_value == json_value:
        return None  # text (compared exactly) and null
    return f"{path}: {cbor_value!r} vs {json_value!r}"


def dgc_of(value: Any) -> Any:
    """Return the DGC payload of a CBOR field that holds either it or whole CWT claims."""
    # Vectors differ: AT/BE/... put the bare DGC in "CBOR", DE/NL the whole CWT map.
    if isinstance(value, dict) and HCERT_CLAIM in value:
        return hcert_payload(value)
    return value


def hcert_payload(cwt: Any) -> Any:
    """Return the DGC payload inside CWT claims (-260 -> 1); CheckFailed if absent."""
    if not isinstance(cwt, dict):
        raise CheckFailed("CWT claims are not a map")
    hcert = cwt.get(HCERT_CLAIM)
    if not isinstance(hcert, dict) or 1 not in hcert:
        raise CheckFailed("no hcert claim (-260 -> 1)")
    return hcert[1]
