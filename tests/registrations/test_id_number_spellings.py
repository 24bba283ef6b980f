"""One ID number is one person however it was typed, on every path that takes one.

An outside test run found superscript digits answering 500 on every path (a batch of
five good rows and one such row stored nothing, three times) and Arabic-Indic digits
making a second person record for the same number. Every path now goes through
core.validators.normalize_id_number: full-width and superscript digits are the same
number, digits of other scripts are refused with a message saying so.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from passtrace.core.ids import uuid7
from passtrace.people.models import Person
from passtrace.registrations.models import Registration
from tests.people.spellings import EN, FOREIGN_DIGITS, arabic_indic, fullwidth, superscript


def _typed(client, staff, id_number: str):
    now = datetime.now(UTC).isoformat()
    return client.post("/api/v1/registrations", headers={**staff.headers, **EN}, json={
        "id": str(uuid7()), "site": "CP-T-01", "lane": "1", "device_key": "phone-1",
        "occurred_at": now, "sent_at": now, "direction": "through", "method": "id_typed",
        "temperature": 36.5, "id_number": id_number})


def test_a_typed_id_number_finds_the_person_in_any_spelling(client, checkpoint, session, rt):
    person = session.get(Person, checkpoint.resident.principal.person_id)
    number = rt.vault.read(person, "id_enc")
    for spelling in (fullwidth(number), superscript(number)):
        resp = _typed(client, checkpoint.staff, spelling)
        assert resp.status_code == 200, resp.text
        assert resp.json()["holder"] == person.name_masked
    resp = _typed(client, checkpoint.staff, arabic_indic(number))
    assert resp.status_code == 422, resp.text
    assert FOREIGN_DIGITS in resp.json()["error"]["fields"]["id_number"]


def test_a_batch_with_one_odd_spelling_stores_the_good_rows(client, checkpoint, session, rt):
    person = session.get(Person, checkpoint.resident.principal.person_id)
    number = rt.vault.read(person, "id_enc")

    def row(**kw):
        return {"id": str(uuid7()), "lane": "1", "occurred_at": datetime.now(UTC).isoformat(),
                "direction": "through", "method": "id_typed", "decision": "allow",
                "reasons": [], **kw}

    good = [row(pass_id=checkpoint.pass_["id"]) for _ in range(5)]
    odd = [row(id_number=superscript(number)), row(id_number=arabic_indic(number))]
    resp = client.post("/api/v1/registrations/batch", headers={**checkpoint.staff.headers, **EN},
                       json={"site": "CP-T-01", "device_key": "phone-7", "pending": 0,
                             "sent_at": datetime.now(UTC).isoformat(),
                             "registrations": good + odd})
    assert resp.status_code == 200, resp.text  # today: 500, nothing stored
    out = resp.json()
    assert (out["stored"], out["rejected"]) == (6, 1)
    assert FOREIGN_DIGITS in out["results"][-1]["error"]
    stored = session.get(Registration, uuid.UUID(odd[0]["id"]))
    assert stored.person_hash == person.id_hash
