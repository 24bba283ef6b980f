"""Batch upload, the fast way in: the body decoded into typed rows in one C pass.

orjson builds a dict per row (a dozen keys, each a str object hashed and stored), and
`ingest.parse_row` then reads each key back with `dict.get` and checks its type in
Python. msgspec decodes the same JSON straight into slotted structs whose fields it
has already type-checked, untracked by the garbage collector, in about a third of the
time; what remains per row here is the checks of value (ranges, codes, the site's
lanes, the time window) and the row's stored values.

What this path does NOT do is decide a refusal. Anything a typed row fails is handed
to `ingest.parse_row` as the dict the row came from, so every rejection keeps its
exact translated message and every answer is the one the dict path gives:

* a body msgspec cannot decode into these types at all (a number where a text
  belongs, `companions: 1.5`, an unknown key in the envelope or a row, not JSON,
  nesting deeper than msgspec follows ...) returns
  None from `decode`, and the caller takes the dict path for the whole batch
  (views._ingest_body), which answers as it always did;
* a typed row failing a check of value goes through `parse_row` alone (`_slow`).

tests/registrations/test_typed_batch.py checks both paths give the same answers and
the same stored rows, and that this parser agrees with parse_row row by row.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

import msgspec
from msgspec import UNSET, UnsetType

from passtrace.core.validators import InvalidValue, validate_id_number, validate_plate
from passtrace.registrations import lookback
from passtrace.registrations.ingest import (
    FUTURE_LIMIT,
    PAST_LIMIT,
    TEXT_LIMITS,
    ParsedRow,
    parse_row,
    stored_values,
    uuid7_of,
)
from passtrace.registrations.models import DECISIONS, DEVICE_METHODS, DIRECTIONS
from passtrace.rules.decide import REASONS, round_temperature
from passtrace.rules.offline import is_masked_name

_Text = str | None | UnsetType


class Row(msgspec.Struct, gc=False, forbid_unknown_fields=True):
    """One uploaded row, as JSON types. UNSET: the key was absent (parse_row's defaults
    apply); None: it was null. A key not named here fails decoding, and the body takes
    the dict path: msgspec skips an ignored key's value unchecked (invalid UTF-8, 1e999),
    where orjson refuses the whole body as not JSON, and that answer must stay."""

    id: str
    occurred_at: _Text = UNSET
    lane: _Text = UNSET
    direction: _Text = UNSET
    method: _Text = UNSET
    pass_id: _Text = UNSET
    token: _Text = UNSET
    id_number: _Text = UNSET
    temperature: float | None | UnsetType = UNSET
    companions: int | UnsetType = UNSET
    plate: _Text = UNSET
    decision: _Text = UNSET
    reasons: list[str] | UnsetType = UNSET
    override_reason: _Text = UNSET
    holder: _Text = UNSET
    id_last4: _Text = UNSET
    origin: _Text = UNSET
    destination: _Text = UNSET


class Envelope(msgspec.Struct, forbid_unknown_fields=True):
    """The batch around the rows. Its fields are validated by BatchIn (pydantic), as on
    the dict path; an unknown key fails decoding, so the dict path refuses it by name."""

    registrations: list[Row]
    site: Any = UNSET
    device_key: Any = UNSET
    sent_at: Any = UNSET
    pending: Any = UNSET


_DECODER = msgspec.json.Decoder(Envelope)
_FIELDS = Row.__struct_fields__


def decode(body: bytes) -> tuple[dict[str, Any], list[Row]] | None:
    """The envelope's fields present (for BatchIn) and the typed rows; None when the body
    does not decode into these types (the caller then takes the dict path)."""
    try:
        batch = _DECODER.decode(body)
    except (msgspec.ValidationError, msgspec.DecodeError, RecursionError):
        # RecursionError: msgspec stops near 1,000 levels of nesting, orjson does not;
        # the dict path decides such a body (else a device retrying it got a 500).
        return None
    envelope = {key: value for key in ("site", "device_key", "sent_at", "pending")
                if (value := getattr(batch, key)) is not UNSET}
    return envelope, batch.registrations


def as_dict(row: Row) -> dict[str, Any]:
    """The row as the dict path sees it: the keys it had, with their values."""
    return {key: value for key in _FIELDS if (value := getattr(row, key)) is not UNSET}


def _slow(row: Row, site_lanes: frozenset[str], default_lane: str, now: datetime,
          earliest: datetime | None, latest: datetime | None,
          memo: dict[tuple[str, Any], Any]) -> ParsedRow:
    # parse_row raises the refusal (or, where this parser was only cautious, accepts).
    return parse_row(as_dict(row), site_lanes=site_lanes, default_lane=default_lane,
                     now=now, earliest=earliest, latest=latest, memo=memo)


_fromisoformat = datetime.fromisoformat


def parse_typed(row: Row, *, site_lanes: frozenset[str], default_lane: str,
                now: datetime, earliest: datetime | None = None,
                latest: datetime | None = None,
                memo: dict[tuple[str, Any], Any] | None = None) -> ParsedRow:
    """`ingest.parse_row` for a typed row: the same ParsedRow, or its RowError.

    The checks are parse_row's, in its order, less the type checks msgspec made. Each
    failing branch returns `_slow(...)`: parse_row says why, in its words.
    """
    if memo is None:
        memo = {}
    # Every refusal, and every row this parser is not sure of, goes to parse_row; the
    # arguments are passed on only then (a dict built per row costs what a check does).
    where = (site_lanes, default_lane, now, earliest, latest, memo)
    ident = uuid7_of(row.id)
    if ident is None:
        return _slow(row, *where)
    lane = row.lane
    if lane is UNSET or lane is None:
        lane = default_lane
    elif len(lane) > 16:
        return _slow(row, *where)
    else:
        lane = lane.strip() or default_lane
    if lane not in site_lanes:
        return _slow(row, *where)
    text = row.occurred_at
    if text is UNSET or text is None:
        return _slow(row, *where)
    try:
        occurred = _fromisoformat(text)
    except ValueError:
        return _slow(row, *where)
    if (occurred.tzinfo is None
            or occurred > (latest or now + FUTURE_LIMIT)
            or occurred < (earliest or now - PAST_LIMIT)
            or lookback.predates(ident, occurred)):
        return _slow(row, *where)
    temperature = row.temperature
    if temperature is UNSET or temperature is None:
        temperature = None
    else:
        if not 30.0 <= temperature <= 45.0:
            return _slow(row, *where)
        rounded = memo.get(("temperature", temperature))
        if rounded is None:
            rounded = memo["temperature", temperature] = round_temperature(temperature)
        temperature = rounded
    companions = 0 if row.companions is UNSET else row.companions
    if not 0 <= companions <= 20:
        return _slow(row, *where)
    reasons = [] if row.reasons is UNSET else row.reasons
    if reasons and any(r not in REASONS for r in reasons):
        return _slow(row, *where)
    decision = "" if row.decision is UNSET else row.decision
    if decision not in DECISIONS:
        return _slow(row, *where)
    override_reason = overridden = None if row.override_reason is UNSET \
        else row.override_reason
    if override_reason is not None:
        if len(override_reason) > 500:
            return _slow(row, *where)
        override_reason = override_reason.strip() or None
    if (decision == "allow") == bool(reasons) and not overridden:
        return _slow(row, *where)
    pass_id: Any = None if row.pass_id is UNSET else row.pass_id
    if pass_id is not None:
        known = memo.get(("pass_id", pass_id))
        if known is None:
            try:
                known = memo["pass_id", pass_id] = uuid.UUID(pass_id)
            except ValueError:
                return _slow(row, *where)
        pass_id = known
    id_number: Any = None if row.id_number is UNSET else row.id_number
    if id_number is not None:
        checked: Any = memo.get(("id_number", id_number))
        if checked is None:
            try:
                checked = validate_id_number(id_number)
            except InvalidValue as exc:
                checked = (exc.message,)  # the memo entry parse_row makes
            memo["id_number", id_number] = checked
        if checked.__class__ is tuple:
            return _slow(row, *where)
        id_number = checked
    token = None if row.token is UNSET else row.token
    if token is not None and not 0 < len(token) <= 2000:
        return _slow(row, *where)
    if pass_id is None and token is None and id_number is None and decision != "deny":
        return _slow(row, *where)
    plate = None if row.plate is UNSET else row.plate
    if plate:
        try:
            plate = validate_plate(plate)
        except InvalidValue:
            return _slow(row, *where)
    direction = "in" if row.direction is UNSET else row.direction
    method = "qr" if row.method is UNSET else row.method
    if direction not in DIRECTIONS or method not in DEVICE_METHODS:
        return _slow(row, *where)
    values = stored_values(
        ident=ident, lane=lane, occurred=occurred, direction=direction, method=method,
        pass_id=pass_id, temperature=temperature, plate=plate, companions=companions,
        decision=decision, reasons=reasons, override_reason=override_reason)
    if (row.holder is UNSET and row.id_last4 is UNSET and row.origin is UNSET
            and row.destination is UNSET):  # the usual row: no free text to check
        return ParsedRow(values=values, id_number=id_number, token=token)
    for key, stored_as, limit in TEXT_LIMITS:
        value = getattr(row, key)
        if value is UNSET or value is None:
            continue
        if len(value) > limit:
            return _slow(row, *where)
        values[stored_as] = value.strip()
    if not is_masked_name(values["person_masked"]):
        return _slow(row, *where)
    return ParsedRow(values=values, id_number=id_number, token=token)
