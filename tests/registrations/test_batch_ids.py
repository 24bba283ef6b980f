"""A batch row's id is accepted or refused exactly as uuid.UUID would judge it.

The batch parses ids with its own fast path (registrations.ingest.uuid7_of); a device
that spells an id another way must get the same answer as before it existed.
"""

from __future__ import annotations

import uuid

import pytest

from passtrace.registrations.ingest import uuid7_of

# A fixed version-7 id: xdist workers must collect the same parameters.
_ID = "01a242f8-bc50-7111-a8f7-a7af180fa0cb"


def _reference(text: str) -> uuid.UUID | None:
    try:
        ident = uuid.UUID(text)
    except ValueError:
        return None
    return ident if ident.version == 7 else None


@pytest.mark.parametrize("text", [
    _ID, _ID.upper(), _ID.replace("-", ""), "{" + _ID + "}", "urn:uuid:" + _ID,
    " " + _ID[1:], "+" + _ID[1:], _ID[:-1] + "_", _ID[:9] + "_" + _ID[10:],
    _ID[:14] + "4" + _ID[15:],  # version 4
    _ID[:19] + "c" + _ID[20:],  # variant bits 11: not RFC 4122, so no version
    _ID[:19] + "0" + _ID[20:],  # variant bits 00 (NCS)
    _ID[:8] + "x" + _ID[9:], _ID[:-1], _ID + "0", "", "-" * 36, "not-a-uuid",
    _ID.replace("-", "")[:32] + "----",
])
def test_an_id_is_judged_as_uuid_would(text):
    assert uuid7_of(text) == _reference(text)
    if uuid7_of(text) is not None:
        assert str(uuid7_of(text)) == str(_reference(text))
        assert hash(uuid7_of(text)) == hash(_reference(text))
