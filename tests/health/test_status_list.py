"""The signed status list for offline checkpoints, and the phone's signed status code."""

from __future__ import annotations

import base64
import time

from passtrace.codec.lists import verify_status_list
from passtrace.codec.status import verify_status
from passtrace.passes import keyring
from tests.health.conftest import flag


def _approved_pass(client, cast) -> str:  # type: ignore[no-untyped-def]
    from tests.passes.helpers import apply

    p = apply(client, cast["resident"].headers)
    resp = client.post(f"/api/v1/passes/{p['id']}/approve", headers=cast["official"].headers,
                       json={"reason": ""})
    assert resp.status_code == 200
    return str(p["id"])


def test_the_list_names_the_passes_of_red_and_yellow_people(client, session, cast,
                                                             make_persona) -> None:
    pass_id = _approved_pass(client, cast)
    staff = make_persona("checkpoint_staff", "site", "CP-NM-01").headers
    before = client.get("/api/v1/health/status-list", headers=staff)
    assert before.status_code == 200
    key = keyring.list_key_entry(session=session)
    der = base64.b64decode(str(key["public_key_der_b64"]))  # type: ignore[index]
    assert pass_id not in verify_status_list(before.json()["signed"], der)["statuses"]
    flag(session, cast["resident"].user.person_id, "yellow")
    session.commit()
    after = client.get("/api/v1/health/status-list", headers=staff).json()
    listed = verify_status_list(after["signed"], der)
    assert listed["statuses"][pass_id] == "yellow" and after["version"] >= before.json()[
        "version"]
    # a resident may not read who else is flagged
    assert client.get("/api/v1/health/status-list",
                      headers=cast["resident"].headers).status_code == 403


def test_the_phone_code_verifies_with_the_pass_keys_and_says_the_status(client, session,
                                                                        cast) -> None:
    flag(session, cast["resident"].user.person_id, "red", reason="close_contact")
    session.commit()
    me = client.get("/api/v1/health/me", headers=cast["resident"].headers).json()
    claims = verify_status(me["code"], keyring.trust_store(session=session),
                           now=int(time.time()))
    assert claims.level == "red" and claims.holder == me["name"]
