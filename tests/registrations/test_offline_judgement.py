"""Offline uploads are judged again by the server: the device's word is kept, not trusted."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

from cbor2 import CBORTag, dumps, loads
from sqlalchemy import event

from passtrace.codec import b45decode, b45encode
from passtrace.core.clock import local_today
from passtrace.registrations.disagreements import registration_disagreements
from passtrace.registrations.models import Registration
from tests.registrations.conftest import SITE
from tests.registrations.test_batch_upload import batch, row

URL = "/api/v1/registrations/batch"


def _scan(checkpoint, **overrides):
    """A scanned pass as the offline page queues it: the text and what it read from it."""
    body = {"pass_id": checkpoint.pass_["id"], "token": checkpoint.pass_["token"],
            "holder": "张*"}
    return row(**{**body, **overrides})


def _upload(client, checkpoint, rows):
    resp = client.post(URL, json=batch(rows), headers=checkpoint.staff.headers)
    assert resp.status_code == 200, resp.text
    return {r["id"]: r for r in resp.json()["results"]}


def _stored(session, body):
    session.expire_all()
    return session.get(Registration, uuid.UUID(body["id"]))


def _forge(token: str, holder: str = "王*") -> str:
    """Change the holder inside a real pass and keep its signature."""
    tag = loads(b45decode(token[4:]))
    protected, unprotected, payload, signature = tag.value
    claims = loads(payload)
    claims[-65537]["n"] = holder
    return "PT1:" + b45encode(dumps(CBORTag(18, [protected, unprotected, dumps(claims),
                                                 signature])))


def test_a_revoked_pass_let_through_offline_is_stored_as_denied_and_flagged(
        client, checkpoint, session):
    resp = client.post(f"/api/v1/passes/{checkpoint.pass_['id']}/revoke",
                       json={"reason_code": "other", "reason": "误发的通行证"},
                       headers=checkpoint.official.headers)
    assert resp.status_code == 200, resp.text
    body = _scan(checkpoint)
    answer = _upload(client, checkpoint, [body])[body["id"]]
    assert (answer["status"], answer["decision"]) == ("stored", "deny")
    assert answer["disagreement"] == "offline_allowed_denied"
    stored = _stored(session, body)
    assert stored.decision == "deny" and stored.reasons[0] == "revoked"
    assert (stored.device_decision, stored.device_reasons) == ("allow", [])
    assert stored.disagreement == "offline_allowed_denied"


def test_a_forged_pass_text_is_denied_whatever_pass_id_the_device_wrote(
        client, checkpoint, session):
    body = _scan(checkpoint, token=_forge(checkpoint.pass_["token"]))
    answer = _upload(client, checkpoint, [body])[body["id"]]
    assert answer["decision"] == "deny" and answer["reasons"] == ["bad_signature"]
    stored = _stored(session, body)
    assert stored.reasons == ["bad_signature"] and stored.pass_id is None
    assert stored.person_hash is None, "a forged pass names nobody"
    assert stored.disagreement == "offline_allowed_denied"


def test_a_pass_id_with_someone_elses_pass_text_is_judged_by_the_text(
        client, checkpoint, session, make_persona):
    from tests.passes.helpers import apply

    other = make_persona("public", name="李四")
    pending = apply(client, other.headers)  # never approved
    body = _scan(checkpoint, pass_id=pending["id"])
    _upload(client, checkpoint, [body])
    stored = _stored(session, body)
    assert str(stored.pass_id) == checkpoint.pass_["id"] and stored.decision == "allow"
    assert stored.disagreement is None


def test_a_fever_let_through_offline_is_denied(client, checkpoint, session):
    body = _scan(checkpoint, temperature=38.9)
    answer = _upload(client, checkpoint, [body])[body["id"]]
    assert answer["decision"] == "deny" and answer["reasons"] == ["fever"]
    assert _stored(session, body).disagreement == "offline_allowed_denied"


def test_a_guards_override_of_what_the_device_showed_stands(client, checkpoint, session):
    body = _scan(checkpoint, temperature=38.2, reasons=["fever"],
                 override_reason="复测 36.9 °C")
    answer = _upload(client, checkpoint, [body])[body["id"]]
    assert answer["decision"] == "allow" and answer["disagreement"] is None
    stored = _stored(session, body)
    assert stored.reasons == ["fever"] and stored.override_reason == "复测 36.9 °C"


def test_an_override_does_not_cover_what_the_device_could_not_see(client, checkpoint, session):
    from passtrace.people.models import Person

    person = session.get(Person, checkpoint.resident.principal.person_id)
    person.status = "red"
    session.commit()
    body = _scan(checkpoint, temperature=38.2, decision="allow", reasons=["fever"],
                 override_reason="复测正常")
    answer = _upload(client, checkpoint, [body])[body["id"]]
    assert answer["decision"] == "deny" and answer["reasons"] == ["status_red", "fever"]
    assert answer["disagreement"] == "offline_allowed_denied"


def test_a_row_from_twenty_days_ago_is_judged_at_its_own_time(client, checkpoint, session):
    body = _scan(checkpoint, occurred_at=(datetime.now(UTC) - timedelta(days=20)).isoformat())
    answer = _upload(client, checkpoint, [body])[body["id"]]
    assert answer["decision"] == "deny" and "not_yet_valid" in answer["reasons"]
    assert _stored(session, body).disagreement == "offline_allowed_denied"


def test_a_typed_id_of_a_pass_holder_is_allowed_by_the_server(client, checkpoint, session, rt):
    from passtrace.people.models import Person

    person = session.get(Person, checkpoint.resident.principal.person_id)
    id_number = rt.vault.read(person, "id_enc")
    # Offline the device cannot look anybody up: it showed "check by eye" and queued it.
    body = row(method="id_typed", id_number=id_number, decision="deny",
               reasons=["unknown_person"])
    answer = _upload(client, checkpoint, [body])[body["id"]]
    assert (answer["decision"], answer["reasons"]) == ("allow", [])
    assert answer["disagreement"] is None, "the server deciding a typed ID is the plan"
    stored = _stored(session, body)
    assert str(stored.pass_id) == checkpoint.pass_["id"]
    assert (stored.person_masked, stored.device_decision) == ("张*", "deny")


def test_a_typed_id_of_nobody_stays_denied(client, checkpoint, session):
    from passtrace.demo import demo_id_number

    body = row(method="id_typed", id_number=demo_id_number("520102", "19700101", "901"),
               decision="deny", reasons=["unknown_person"])
    answer = _upload(client, checkpoint, [body])[body["id"]]
    assert (answer["decision"], answer["reasons"]) == ("deny", ["unknown_person"])


def test_a_clear_name_where_a_mask_belongs_refuses_that_row_only(client, checkpoint, session):
    good = [_scan(checkpoint) for _ in range(2)]
    clear = _scan(checkpoint, holder="张三丰")
    answers = _upload(client, checkpoint, [good[0], clear, good[1]])
    assert answers[clear["id"]]["status"] == "rejected"
    assert "张*" in answers[clear["id"]]["error"]
    assert _stored(session, clear) is None
    assert all(answers[g["id"]]["status"] == "stored" for g in good)
    assert {_stored(session, g).person_masked for g in good} == {"张*"}


def test_the_mask_stored_is_the_servers_own(client, checkpoint, session):
    body = _scan(checkpoint, holder="王*", id_last4="0000")
    _upload(client, checkpoint, [body])
    stored = _stored(session, body)
    assert stored.person_masked == "张*" and stored.id_last4 != "0000"


def test_officials_over_the_area_see_the_disagreements_and_the_feed_lists_them(
        client, checkpoint, session, make_persona):
    flagged = _scan(checkpoint, temperature=38.9)
    fine = _scan(checkpoint)
    _upload(client, checkpoint, [flagged, fine])
    now = datetime.now(UTC)
    found = registration_disagreements(session=session, area_code="520102",
                                       since=now - timedelta(hours=1),
                                       until=now + timedelta(hours=1))
    assert [(str(d.id), d.kind, d.found_by_server) for d in found] == [
        (flagged["id"], "offline_allowed_denied", ["fever"])]
    assert registration_disagreements(session=session, area_code="520103",
                                      since=now - timedelta(hours=1),
                                      until=now + timedelta(hours=1)) == []
    page = client.get(f"/sites/{SITE}?day={local_today().isoformat()}",
                      headers=checkpoint.official.headers)
    assert page.status_code == 200
    assert 'data-kind="offline_allowed_denied"' in page.text
    assert "离线放行，但按规则应禁止。" in page.text
    # The column says why the server decided so, not a pass application's reason.
    table = page.text.split('id="disagreement-list"')[1].split("</table>")[0]
    assert "<th>理由</th>" in table and "申请理由" not in table
    staff_page = client.get(f"/sites/{SITE}", headers=checkpoint.staff.headers)
    assert 'id="disagreement-list"' not in staff_page.text


def test_a_batch_costs_the_same_queries_for_ten_people_as_for_one(
        client, checkpoint, session, make_persona, rt):
    """Lookups are per batch, not per row: 40 rows of 10 people cost what 1 row costs."""
    from passtrace.people.models import Person
    from tests.passes.helpers import apply, approve

    holders = []
    for i in range(10):
        persona = make_persona("public", name=f"刘{i}")
        p = apply(client, persona.headers)
        approved = approve(client, p["id"], checkpoint.official.headers, persona.headers)
        id_number = rt.vault.read(session.get(Person, persona.principal.person_id), "id_enc")
        holders.append((approved, id_number))

    def count(rows):
        statements = []
        engine = session.get_bind().engine

        def seen(conn, cursor, statement, *args):
            statements.append(statement)
        event.listen(engine, "before_cursor_execute", seen)
        try:
            _upload(client, checkpoint, rows)
        finally:
            event.remove(engine, "before_cursor_execute", seen)
        return sum(1 for s in statements if "people" in s or "passes" in s)

    one = count([row(pass_id=holders[0][0]["id"], token=holders[0][0]["token"]),
                 row(method="id_typed", id_number=holders[0][1], decision="deny",
                     reasons=["unknown_person"])])
    many = count([row(pass_id=p["id"], token=p["token"]) for p, _ in holders] * 2
                 + [row(method="id_typed", id_number=n, decision="deny",
                        reasons=["unknown_person"]) for _, n in holders] * 2)
    assert many == one
