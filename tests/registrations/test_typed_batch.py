"""A batch decoded into typed rows (registrations/typed_batch.py) is answered and stored
exactly as the dict path (ingest.parse_row) answers and stores it."""

from __future__ import annotations

import unicodedata
import uuid
from datetime import UTC, datetime, timedelta

import orjson
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from passtrace.core.ids import uuid7
from passtrace.demo import demo_id_number
from passtrace.registrations import ingest, typed_batch
from passtrace.registrations.ingest import RowError
from passtrace.registrations.models import Registration
from tests.registrations.conftest import SITE

_FULL_WIDTH = str.maketrans("0123456789X", "０１２３４５６７８９Ｘ")
# Columns that differ between two uploads of the same rows by construction.
_OWN = {"id", "received_at", "clock_skew_s"}


def _mixed_rows(pass_id: str, id_number: str) -> list[dict[str, object]]:
    """Good rows and every kind of refusal a device sends, in one batch."""
    now = datetime.now(UTC)
    at = now.isoformat()
    bad_sum = id_number[:-1] + ("0" if id_number[-1] != "0" else "1")

    def row(**fields: object) -> dict[str, object]:
        return {"id": str(uuid7()), "lane": "1", "occurred_at": at, "direction": "in",
                "method": "qr", "temperature": 36.4, "decision": "allow", "reasons": [],
                **fields}

    return [
        row(pass_id=pass_id),
        row(pass_id=pass_id, lane=" 2 ", temperature=37, holder="张*", origin=" 南明 ",
            plate="贵a 12345", companions=2),
        # typed by hand with a phone's full-width digits: NFKC makes it the same person
        row(method="id_typed", id_number=id_number.translate(_FULL_WIDTH), direction="out"),
        row(method="id_typed", id_number=id_number, decision="deny",
            reasons=["unknown_person"]),
        row(pass_id=pass_id, direction="out", token=None, plate=None),
        row(pass_id=pass_id, decision="deny", reasons=["fever"], override_reason="医生复核"),
        row(id="not-a-uuid", pass_id=pass_id),
        row(id=str(uuid.uuid4()), pass_id=pass_id),  # a UUID, but not v7
        row(method="id_typed", id_number=bad_sum),
        row(occurred_at="yesterday", pass_id=pass_id),
        row(occurred_at=now.replace(tzinfo=None).isoformat(), pass_id=pass_id),
        row(occurred_at=(now + timedelta(days=3)).isoformat(), pass_id=pass_id),
        row(temperature=55, pass_id=pass_id),
        row(lane="9", pass_id=pass_id),
        row(decision="deny", reasons=[], pass_id=pass_id),
        row(reasons=["no_such_code"], decision="deny", pass_id=pass_id),
        row(holder="张三丰", pass_id=pass_id),
        row(plate="not a plate", pass_id=pass_id),
        row(direction="sideways", pass_id=pass_id),
        row(pass_id="pass-7"),
        row(),  # neither a pass nor an ID number, and allowed
    ]


def _renumbered(rows: list[dict[str, object]]) -> list[dict[str, object]]:
    """The same rows under fresh ids (where the id is a good one)."""
    out = []
    for r in rows:
        good = ingest.uuid7_of(str(r["id"])) is not None
        out.append({**r, "id": str(uuid7())} if good else dict(r))
    return out


def _post(client, headers, rows, sent_at, extra=()):
    body = orjson.dumps({"site": SITE, "device_key": "phone-9", "sent_at": sent_at,
                         "pending": 0, "registrations": [*rows, *extra]})
    resp = client.post("/api/v1/registrations/batch", content=body,
                       headers={**headers, "Content-Type": "application/json",
                                "Accept-Language": "en"})
    assert resp.status_code == 200, resp.text
    return body, resp.json()


def _stored(session, answers):
    ids = [uuid.UUID(r["id"]) for r in answers if r["status"] == "stored"]
    rows = {r.id: r for r in session.scalars(select(Registration).where(
        Registration.id.in_(ids)))}
    return [{c: v for c, v in vars(rows[i]).items() if c not in _OWN and not c.startswith("_")}
            for i in ids]


def test_typed_and_dict_paths_answer_and_store_a_mixed_batch_alike(client, checkpoint,
                                                                    session, rt):
    from passtrace.people.models import Person

    person = session.get(Person, checkpoint.resident.principal.person_id)
    id_number = rt.vault.read(person, "id_enc")
    rows = _mixed_rows(checkpoint.pass_["id"], id_number)
    sent_at = datetime.now(UTC).isoformat()
    typed_body, typed = _post(client, checkpoint.staff.headers, rows, sent_at)
    # One row that is not an object makes the body fail typed decoding: the whole batch
    # then takes the dict path, which refuses that row alone.
    other = _renumbered(rows)
    dict_body, by_dict = _post(client, checkpoint.staff.headers, other, sent_at, extra=[7])
    assert typed_batch.decode(typed_body) is not None
    assert typed_batch.decode(dict_body) is None

    assert by_dict["results"].pop()["error"] == "Each registration must be a JSON object."
    assert (typed["stored"], typed["rejected"]) == (6, 15)
    assert (by_dict["stored"], by_dict["rejected"] - 1) == (6, 15)
    strip = [{k: v for k, v in r.items() if k != "id"} for r in typed["results"]]
    assert strip == [{k: v for k, v in r.items() if k != "id"} for r in by_dict["results"]]
    # A refused row is answered under the id it was sent with, on both paths.
    assert [r["id"] for r in typed["results"]] == [r["id"] for r in rows]
    assert typed["results"][6] == {"id": "not-a-uuid", "status": "rejected",
                                   "error": typed["results"][6]["error"]}
    stored = _stored(session, typed["results"])
    assert stored == _stored(session, by_dict["results"])
    # What the typed path stored is what a user expects of those rows.
    assert stored[1]["lane"] == "2" and stored[1]["plate"] == "贵A12345"
    assert stored[1]["origin"] == "南明" and stored[1]["companions"] == 2
    assert stored[2]["person_hash"] == person.id_hash  # the full-width ID found the person
    assert stored[2]["person_masked"] == "张*"
    assert stored[4]["direction"] == "out" and stored[4]["plate"] is None
    assert unicodedata.normalize("NFKC", rows[2]["id_number"]) == id_number


def test_an_unknown_envelope_key_is_refused_by_name_as_before(client, checkpoint):
    body = orjson.dumps({"site": SITE, "device_key": "phone-9", "sent_at":
                         datetime.now(UTC).isoformat(), "registrations": [], "colour": "red"})
    assert typed_batch.decode(body) is None
    resp = client.post("/api/v1/registrations/batch", content=body,
                       headers={**checkpoint.staff.headers, "Content-Type": "application/json",
                                "Accept-Language": "en"})
    assert resp.status_code == 422
    assert "colour" in resp.text


# --- row by row, without a database: the typed parser agrees with parse_row -------------

_NOW = datetime(2026, 12, 5, 8, 0, tzinfo=UTC)
_ID = demo_id_number("520102", "19800101", "777")
_PASS = str(uuid.uuid4())
_AT = _NOW.isoformat()


def _ids():
    good = str(uuid7())
    return st.sampled_from([good, good.upper(), good.replace("-", ""), "{" + good + "}",
                            str(uuid.uuid4()), "x" * 36, "", good[:-1]])


_FIELDS = {
    "lane": st.sampled_from(["1", " 2 ", "", "9", "x" * 17, None, 1]),
    "occurred_at": st.sampled_from([_AT, "2026-12-05 08:00:00+08:00", "2026-12-05T08:00:00",
                                    "yesterday", "2026-12-09T08:00:00+00:00",
                                    "2026-10-01T08:00:00+00:00", None, 5]),
    "direction": st.sampled_from(["in", "out", "through", "auto", "", None]),
    "method": st.sampled_from(["qr", "id_typed", "import", None]),
    "temperature": st.sampled_from([36.4, 37, 29.9, 45.0, 45.01, 36.55, None, True, "36"]),
    "companions": st.sampled_from([0, 20, 21, -1, 1.0, None, True]),
    "decision": st.sampled_from(["allow", "deny", "", None, "maybe"]),
    "reasons": st.sampled_from([[], ["fever"], ["unknown_person"], ["nope"], None, [1]]),
    "override_reason": st.sampled_from([None, "医生复核", "  ", "x" * 501, 3]),
    "pass_id": st.sampled_from([_PASS, _PASS.upper(), "pass-7", None, 7]),
    "token": st.sampled_from(["PT1:ABC", "", "P" * 2001, None, 1]),
    "id_number": st.sampled_from([_ID, _ID.translate(_FULL_WIDTH), _ID[:-1] + "0",
                                  _ID.lower(), "", None]),
    "plate": st.sampled_from(["贵A12345", "贵a 12345", "", "nope", None, 0, 12]),
    "holder": st.sampled_from(["张*", "张三丰", "", " 欧** ", None, "x" * 33]),
    "id_last4": st.sampled_from(["1234", "12345", None]),
    "origin": st.sampled_from(["南明", " ", "x" * 65, None]),
    "destination": st.sampled_from(["云岩", None, 1.5]),
    "extra": st.sampled_from([None, {"a": [1]}, "free"]),
}


def _outcome(parse, raw, memo):
    try:
        parsed = parse(raw, site_lanes=frozenset({"1", "2"}), default_lane="1", now=_NOW,
                       memo=memo)
    except RowError as exc:
        return ("refused", exc.message, exc.params)
    return ("parsed", parsed.values, parsed.id_number, parsed.token)


_ABSENT = object()  # the key left out of the row
_BASE = {"lane": "1", "occurred_at": _AT, "direction": "in", "method": "qr",
         "temperature": 36.4, "decision": "allow", "reasons": [], "pass_id": _PASS}


@st.composite
def _rows(draw):
    """A good row with one to four fields changed (or left out): most still decode into
    typed rows, so most examples compare the two parsers."""
    raw = {"id": draw(_ids()), **_BASE}
    for key in draw(st.lists(st.sampled_from(sorted(_FIELDS)), min_size=1, max_size=4,
                             unique=True)):
        value = draw(st.one_of(_FIELDS[key], st.just(_ABSENT)))
        if value is _ABSENT:
            raw.pop(key, None)
        else:
            raw[key] = value
    return raw


@settings(max_examples=600, deadline=None)
@given(raw=_rows())
def test_the_typed_parser_agrees_with_parse_row_row_by_row(raw):
    decoded = typed_batch.decode(orjson.dumps({"registrations": [raw]}))
    # Not typed: the whole batch takes parse_row (the test above). Hypothesis fails the
    # test (a health check) if it has to discard most examples here.
    assume(decoded is not None)
    typed_row = decoded[1][0]
    assert _outcome(typed_batch.parse_typed, typed_row, {}) == \
        _outcome(ingest.parse_row, orjson.loads(orjson.dumps(raw)), {})



def test_a_row_with_keys_of_its_own_takes_the_dict_path_and_is_answered_as_before(
        client, checkpoint):
    """msgspec would skip an unknown key's value unchecked; orjson reads it. So a row
    with keys the typed rows do not name sends the body down the dict path: extra keys
    are ignored there as always, and a body orjson refuses stays refused."""
    sent_at = datetime.now(UTC).isoformat()
    extra = {"id": str(uuid7()), "lane": "1", "occurred_at": sent_at, "direction": "in",
             "method": "qr", "temperature": 36.4, "decision": "allow", "reasons": [],
             "pass_id": checkpoint.pass_["id"], "firmware": "2.1", "note": {"a": [1]}}
    body, answer = _post(client, checkpoint.staff.headers, [extra], sent_at)
    assert typed_batch.decode(body) is None
    assert (answer["stored"], answer["rejected"]) == (1, 0)

    headers = {**checkpoint.staff.headers, "Content-Type": "application/json",
               "Accept-Language": "en"}
    envelope = (b'{"site":"' + SITE.encode() + b'","device_key":"phone-9","pending":0,'
                b'"registrations":[')
    row = orjson.dumps({**extra, "id": str(uuid7())})[:-1]
    for tail in (b',"firmware":"' + bytes([0xFF]) + b'"}]}', b',"x":1e999}]}'):
        bad = envelope + row + tail
        with pytest.raises(orjson.JSONDecodeError):
            orjson.loads(bad)
        resp = client.post("/api/v1/registrations/batch", content=bad, headers=headers)
        # refused whole as not JSON, as the dict path says, and nothing stored
        assert resp.status_code == 422, resp.text
        assert resp.json()["error"]["message"] == "The upload is not valid JSON."

    # Nesting msgspec will not follow (orjson does): answered, not a 500.
    deep = envelope + row + b',"x":' + b"[" * 1000 + b"]" * 1000 + b"}]}"
    assert typed_batch.decode(deep) is None
    resp = client.post("/api/v1/registrations/batch", content=deep, headers=headers)
    assert resp.status_code < 500, resp.text
