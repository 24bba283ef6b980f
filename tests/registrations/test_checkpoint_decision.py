"""Scanning a pass or typing an ID number at a checkpoint gives allow/deny with reasons."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

from passtrace.demo import demo_id_number
from tests.registrations.conftest import SITE, reg_body


def _register(client, cp, **overrides):
    resp = client.post("/api/v1/registrations", json=reg_body(**overrides),
                       headers=cp.staff.headers)
    assert resp.status_code == 200, resp.text
    return resp.json()


def test_a_valid_pass_is_allowed_with_the_masked_holder(client, checkpoint):
    out = _register(client, checkpoint, token=checkpoint.pass_["token"])
    assert out["decision"] == "allow"
    assert out["reasons"] == []
    assert out["holder"] == "张*"
    assert len(out["id_last4"]) == 4
    assert out["pass_id"] == checkpoint.pass_["id"]


def test_fever_denies_and_says_why(client, checkpoint):
    out = _register(client, checkpoint, token=checkpoint.pass_["token"], temperature=37.3)
    assert out["decision"] == "deny"
    assert [r["code"] for r in out["reasons"]] == ["fever"]
    assert "发热" in out["reasons"][0]["message"] or "fever" in out["reasons"][0]["message"]


def test_entering_twice_without_leaving_is_denied(client, checkpoint):
    assert _register(client, checkpoint, token=checkpoint.pass_["token"])["decision"] == "allow"
    again = _register(client, checkpoint, token=checkpoint.pass_["token"])
    assert [r["code"] for r in again["reasons"]] == ["already_inside"]
    out = _register(client, checkpoint, token=checkpoint.pass_["token"], direction="out")
    assert out["decision"] == "allow"
    assert _register(client, checkpoint, token=checkpoint.pass_["token"])["decision"] == "allow"


def test_a_revoked_pass_is_denied(client, checkpoint):
    resp = client.post(f"/api/v1/passes/{checkpoint.pass_['id']}/revoke",
                       json={"reason_code": "other", "reason": "误发的通行证"},
                       headers=checkpoint.official.headers)
    assert resp.status_code == 200
    out = _register(client, checkpoint, token=checkpoint.pass_["token"])
    assert out["decision"] == "deny"
    assert out["reasons"][0]["code"] == "revoked"


def test_a_tampered_pass_is_denied_as_forged(client, checkpoint):
    token = checkpoint.pass_["token"]
    tampered = token[:-6] + ("A" if token[-6] != "A" else "B") + token[-5:]
    out = _register(client, checkpoint, token=tampered)
    assert out["decision"] == "deny"
    assert out["reasons"][0]["code"] in {"bad_signature", "not_a_pass"}


def test_garbage_in_the_scanner_is_not_a_pass(client, checkpoint):
    out = _register(client, checkpoint, token="hello world")
    assert [r["code"] for r in out["reasons"]] == ["not_a_pass"]


def test_a_pass_for_another_area_is_denied_here(client, checkpoint, make_persona):
    from tests.passes.helpers import apply, approve

    other = make_persona("public", name="李四")
    p = apply(client, other.headers, areas=["520103"])
    official = make_persona("official", "area", "520103")
    approved = approve(client, p["id"], official.headers, other.headers)
    out = _register(client, checkpoint, token=approved["token"])
    assert [r["code"] for r in out["reasons"]] == ["area_not_allowed"]


def test_typing_the_holders_id_number_finds_their_pass(client, checkpoint, session, rt):
    from passtrace.people.models import Person

    person = session.get(Person, checkpoint.resident.principal.person_id)
    id_number = rt.vault.read(person, "id_enc")
    out = _register(client, checkpoint, method="id_typed", id_number=id_number)
    assert out["decision"] == "allow"
    assert out["pass_id"] == checkpoint.pass_["id"]
    assert out["id_last4"] == id_number[-4:]


def test_an_unknown_id_number_is_an_unknown_person(client, checkpoint):
    out = _register(client, checkpoint, method="id_typed",
                    id_number=demo_id_number("520102", "19800101", "777"))
    assert [r["code"] for r in out["reasons"]] == ["unknown_person"]
    assert out["holder"] == ""


def test_a_bad_id_checksum_is_a_clear_error_and_stores_nothing(client, checkpoint):
    good = demo_id_number("520102", "19800101", "777")
    bad = good[:-1] + ("0" if good[-1] != "0" else "1")
    body = reg_body(method="id_typed", id_number=bad)
    resp = client.post("/api/v1/registrations", json=body, headers=checkpoint.staff.headers)
    assert resp.status_code == 422
    assert resp.json()["error"]["fields"]["id_number"]
    again = client.get(f"/api/v1/registrations/{body['id']}", headers=checkpoint.staff.headers)
    assert again.status_code == 404


def test_red_status_is_denied(client, checkpoint, session):
    from passtrace.people.models import Person

    person = session.get(Person, checkpoint.resident.principal.person_id)
    person.status = "red"
    session.commit()
    out = _register(client, checkpoint, token=checkpoint.pass_["token"])
    assert [r["code"] for r in out["reasons"]] == ["status_red"]


def test_a_retry_returns_the_first_result_and_stores_once(client, checkpoint, session):
    from sqlalchemy import func, select

    from passtrace.registrations.models import Registration

    body = reg_body(token=checkpoint.pass_["token"])
    first = client.post("/api/v1/registrations", json=body, headers=checkpoint.staff.headers)
    second = client.post("/api/v1/registrations", json=body, headers=checkpoint.staff.headers)
    assert first.json()["decision"] == second.json()["decision"] == "allow"
    assert second.json()["duplicate"] is True
    count = session.scalar(select(func.count()).select_from(Registration).where(
        Registration.id == uuid.UUID(body["id"])))
    assert count == 1


def test_a_deny_can_be_overridden_with_a_reason_and_it_is_audited(client, checkpoint, session):
    from sqlalchemy import select

    from passtrace.audit.models import AuditEntry

    out = _register(client, checkpoint, token=checkpoint.pass_["token"], temperature=38.0)
    resp = client.post(f"/api/v1/registrations/{out['id']}/override",
                       json={"reason": "复测36.8，放行"}, headers=checkpoint.staff.headers)
    assert resp.status_code == 200, resp.text
    assert resp.json()["decision"] == "allow"
    assert resp.json()["overridden"] is True
    entry = session.scalar(select(AuditEntry).where(
        AuditEntry.action == "registration.override", AuditEntry.resource_id == out["id"]))
    assert entry is not None and entry.reason == "复测36.8，放行"
    again = client.post(f"/api/v1/registrations/{out['id']}/override",
                        json={"reason": "again"}, headers=checkpoint.staff.headers)
    assert again.status_code == 409


def test_staff_of_another_site_cannot_register_here(client, checkpoint, make_persona):
    other = make_persona("checkpoint_staff", "site", "CP-OTHER")
    resp = client.post("/api/v1/registrations", json=reg_body(token=checkpoint.pass_["token"]),
                       headers=other.headers)
    assert resp.status_code == 404
    resident = client.post("/api/v1/registrations", json=reg_body(),
                           headers=checkpoint.resident.headers)
    assert resident.status_code == 403


def test_a_device_clock_far_off_is_flagged(client, checkpoint):
    ahead = (datetime.now(UTC) + timedelta(minutes=30)).isoformat()
    out = _register(client, checkpoint, token=checkpoint.pass_["token"], occurred_at=ahead,
                    sent_at=ahead)
    assert out["skew_flagged"] is True


def test_a_non_v7_id_is_refused(client, checkpoint):
    resp = client.post("/api/v1/registrations",
                       json=reg_body(id=str(uuid.uuid4()), token=checkpoint.pass_["token"]),
                       headers=checkpoint.staff.headers)
    assert resp.status_code == 422


def test_the_fever_threshold_is_per_site(client, checkpoint):
    from tests.registrations.conftest import site_body

    resp = client.post("/api/v1/sites", json=site_body(fever_threshold=37.8),
                       headers=checkpoint.official.headers)
    assert resp.status_code == 200
    out = _register(client, checkpoint, token=checkpoint.pass_["token"], temperature=37.5)
    assert out["decision"] == "allow"
    assert SITE


def test_a_pass_naming_sites_is_good_only_there(client, checkpoint, make_persona):
    from tests.passes.helpers import apply, apply_body, approve

    other = make_persona("public", name="王五")
    bad = client.post("/api/v1/passes", json=apply_body(sites=["NO-SUCH-SITE"]),
                      headers=other.headers)
    assert bad.status_code == 422 and "sites" in bad.json()["error"]["fields"]
    p = apply(client, other.headers, sites=[SITE])
    approved = approve(client, p["id"], checkpoint.official.headers, other.headers)
    assert _register(client, checkpoint, token=approved["token"])["decision"] == "allow"
    resp = client.post("/api/v1/sites", json={"code": "CP-T-02", "name": "另一个卡口",
                                              "kind": "road_checkpoint",
                                              "area_code": "520102006"},
                       headers=checkpoint.official.headers)
    assert resp.status_code == 200
    staff2 = make_persona("checkpoint_staff", "site", "CP-T-02")
    out = client.post("/api/v1/registrations",
                      json=reg_body(site="CP-T-02", token=approved["token"]),
                      headers=staff2.headers).json()
    assert [r["code"] for r in out["reasons"]] == ["site_not_allowed"]
