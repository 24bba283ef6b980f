"""Offline devices upload batches: stored once, bad rows refused, good rows kept."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from passtrace.core.clock import LOCAL_TZ
from passtrace.core.ids import uuid7
from passtrace.demo import demo_id_number
from passtrace.registrations import lookback
from passtrace.registrations.models import Registration
from tests.registrations.conftest import SITE


def row(**overrides):
    """A row as the offline page queues it: decided on the device."""
    body = {"id": str(uuid7()), "lane": "1", "occurred_at": datetime.now(UTC).isoformat(),
            "direction": "in", "method": "qr", "temperature": 36.4, "decision": "allow",
            "reasons": []}
    body.update(overrides)
    return body


def batch(rows, **overrides):
    body = {"site": SITE, "device_key": "phone-7", "sent_at": datetime.now(UTC).isoformat(),
            "pending": 0, "registrations": rows}
    body.update(overrides)
    return body


def _count(session, ids):
    return session.scalar(select(func.count()).select_from(Registration).where(
        Registration.id.in_([uuid.UUID(i) for i in ids])))


def test_resending_a_batch_stores_nothing_new_and_says_so_per_row(client, checkpoint, session):
    rows = [row(pass_id=checkpoint.pass_["id"]) for _ in range(50)]
    first = client.post("/api/v1/registrations/batch", json=batch(rows),
                        headers=checkpoint.staff.headers)
    assert first.status_code == 200, first.text
    assert (first.json()["stored"], first.json()["duplicates"]) == (50, 0)
    second = client.post("/api/v1/registrations/batch", json=batch(rows),
                         headers=checkpoint.staff.headers)
    assert (second.json()["stored"], second.json()["duplicates"]) == (0, 50)
    assert {r["status"] for r in second.json()["results"]} == {"duplicate"}
    assert _count(session, [r["id"] for r in rows]) == 50


def test_a_bad_row_is_refused_with_its_reason_and_good_rows_are_kept(client, checkpoint,
                                                                      session):
    good = [row(pass_id=checkpoint.pass_["id"]) for _ in range(3)]
    bad_id = demo_id_number("520102", "19800101", "777")
    bad_id = bad_id[:-1] + ("0" if bad_id[-1] != "0" else "1")
    bad = [row(id="not-a-uuid", pass_id=checkpoint.pass_["id"]),
           row(method="id_typed", id_number=bad_id),
           row(temperature=55, pass_id=checkpoint.pass_["id"]),
           row(lane="9", pass_id=checkpoint.pass_["id"]),
           row(occurred_at="yesterday", pass_id=checkpoint.pass_["id"]),
           row(decision="deny", reasons=[], pass_id=checkpoint.pass_["id"])]
    resp = client.post("/api/v1/registrations/batch", json=batch(good[:2] + bad + good[2:]),
                       headers=checkpoint.staff.headers)
    assert resp.status_code == 200, resp.text
    out = resp.json()
    assert (out["stored"], out["rejected"]) == (3, 6)
    refused = [r for r in out["results"] if r["status"] == "rejected"]
    assert all(r["error"] for r in refused)
    assert "校验" in refused[1]["error"] or "check" in refused[1]["error"].lower()
    assert _count(session, [r["id"] for r in good]) == 3


def test_a_row_whose_id_predates_its_time_by_over_a_day_is_refused(client, checkpoint,
                                                                      session):
    """Bounded reads (look-back, stays after a batch) skip ids older than their time by
    more than lookback.ID_SLACK: such a row would lose its stay, so it is not stored."""
    at = datetime.now(UTC) - timedelta(hours=1)

    def id_made(ago: timedelta) -> str:
        ms = int((at - ago).timestamp() * 1000)
        return str(uuid.UUID(int=(ms << 80) | (0x7 << 76) | (0b10 << 62) | 12345))

    early = row(id=id_made(lookback.ID_SLACK + timedelta(minutes=10)),
                occurred_at=at.isoformat(), pass_id=checkpoint.pass_["id"])
    within = row(id=id_made(lookback.ID_SLACK - timedelta(minutes=10)),
                 occurred_at=at.isoformat(), pass_id=checkpoint.pass_["id"])
    resp = client.post("/api/v1/registrations/batch", json=batch([early, within]),
                       headers=checkpoint.staff.headers)
    assert resp.status_code == 200, resp.text
    assert [r["status"] for r in resp.json()["results"]] == ["rejected", "stored"]
    assert "早一天以上" in resp.json()["results"][0]["error"]
    assert _count(session, [early["id"]]) == 0 and _count(session, [within["id"]]) == 1


def test_rows_carry_the_holder_resolved_from_pass_or_id_number(client, checkpoint, session, rt):
    from passtrace.people.models import Person

    person = session.get(Person, checkpoint.resident.principal.person_id)
    id_number = rt.vault.read(person, "id_enc")
    by_pass = row(pass_id=checkpoint.pass_["id"])
    by_id = row(method="id_typed", id_number=id_number, direction="out")
    client.post("/api/v1/registrations/batch", json=batch([by_pass, by_id]),
                headers=checkpoint.staff.headers)
    stored = {str(r.id): r for r in session.scalars(select(Registration).where(
        Registration.id.in_([uuid.UUID(by_pass["id"]), uuid.UUID(by_id["id"])])))}
    assert stored[by_pass["id"]].person_hash == person.id_hash
    assert stored[by_id["id"]].person_hash == person.id_hash
    assert stored[by_id["id"]].person_masked == "张*"
    assert stored[by_pass["id"]].decided_by == "device"


def test_a_skewed_device_clock_is_flagged_not_trusted(client, checkpoint, session):
    ahead = (datetime.now(UTC) + timedelta(minutes=45)).isoformat()
    rows = [row(pass_id=checkpoint.pass_["id"], occurred_at=ahead)]
    out = client.post("/api/v1/registrations/batch", json=batch(rows, sent_at=ahead),
                      headers=checkpoint.staff.headers).json()
    assert out["skew_flagged"] is True
    assert 2600 < out["clock_skew_s"] < 2800
    stored = session.get(Registration, uuid.UUID(rows[0]["id"]))
    assert stored.skew_flagged is True


def test_the_same_id_twice_in_one_batch_is_stored_once(client, checkpoint):
    r = row(pass_id=checkpoint.pass_["id"])
    out = client.post("/api/v1/registrations/batch", json=batch([r, dict(r)]),
                      headers=checkpoint.staff.headers).json()
    assert (out["stored"], out["duplicates"]) == (1, 1)


def test_an_offline_override_keeps_its_reasons_and_is_audited(client, checkpoint, session):
    from passtrace.audit.models import AuditEntry

    r = row(pass_id=checkpoint.pass_["id"], decision="allow", reasons=["fever"],
            temperature=37.6, override_reason="复测正常")
    out = client.post("/api/v1/registrations/batch", json=batch([r]),
                      headers=checkpoint.staff.headers).json()
    assert out["stored"] == 1
    entry = session.scalars(select(AuditEntry).where(
        AuditEntry.action == "registration.batch").order_by(AuditEntry.id.desc())).first()
    assert entry.detail["overrides"] == 1


def test_malformed_uploads_get_a_clear_error(client, checkpoint):
    headers = checkpoint.staff.headers | {"Content-Type": "application/json"}
    resp = client.post("/api/v1/registrations/batch", content=b"{not json",
                       headers=headers)
    assert resp.status_code == 422
    resp = client.post("/api/v1/registrations/batch", json={"site": SITE},
                       headers=checkpoint.staff.headers)
    assert resp.status_code == 422
    resp = client.post("/api/v1/registrations/batch",
                       json=batch([row()], site="NOPE"), headers=checkpoint.staff.headers)
    assert resp.status_code == 404


def test_an_oversized_chunked_upload_is_refused(client, checkpoint, rt):
    rt.settings.batch_max_bytes = 2048

    def chunks():
        for _ in range(10):
            yield b" " * 1024

    resp = client.post("/api/v1/registrations/batch", content=chunks(),
                       headers=checkpoint.staff.headers | {"Content-Type": "application/json"})
    assert resp.status_code == 413


def test_the_lane_statistics_show_throughput_denials_and_unsynced_devices(client, checkpoint):
    base = datetime.now(UTC).replace(microsecond=0) - timedelta(minutes=10)
    if (base + timedelta(seconds=130)).astimezone(LOCAL_TZ).date() != \
            base.astimezone(LOCAL_TZ).date():
        base -= timedelta(minutes=3)  # keep the rows on one local day, even near midnight
    day = base.astimezone(LOCAL_TZ).date().isoformat()
    rows = [row(pass_id=checkpoint.pass_["id"], occurred_at=(base + timedelta(seconds=12 * i))
                .isoformat(), direction="through") for i in range(10)]
    rows.append(row(pass_id=checkpoint.pass_["id"], decision="deny", reasons=["fever"],
                    temperature=38.1, occurred_at=(base + timedelta(seconds=130)).isoformat()))
    # The device held 15 rows when it sent these 11: 4 are still on it.
    client.post("/api/v1/registrations/batch", json=batch(rows, pending=15),
                headers=checkpoint.staff.headers)
    stats = client.get(f"/api/v1/sites/{SITE}/stats", params={"day": day},
                       headers=checkpoint.official.headers)
    assert stats.status_code == 200, stats.text
    body = stats.json()
    assert body["total"] == 11 and body["denied"] == 1
    assert sum(body["per_hour"]) == 11
    lane1 = next(x for x in body["lanes"] if x["lane"] == "1")
    assert lane1["persons"] == 11
    assert 9 <= lane1["median_seconds"] <= 12
    assert body["denials_by_reason"][0]["code"] == "fever"
    assert body["unsynced_devices"][0]["pending"] == 4
    outsider = client.get(f"/api/v1/sites/{SITE}/stats",
                          headers=checkpoint.resident.headers)
    assert outsider.status_code == 404


def test_a_device_that_uploaded_everything_no_longer_shows_unsynced_rows(client, checkpoint):
    staff = checkpoint.staff.headers
    # Offline all morning: its heartbeat reported three queued rows.
    client.post("/api/v1/checkpoint/heartbeat",
                json={"site": SITE, "device_key": "phone-7", "pending": 3}, headers=staff)
    stats = client.get(f"/api/v1/sites/{SITE}/stats", headers=checkpoint.official.headers)
    assert [d["pending"] for d in stats.json()["unsynced_devices"]] == [3]
    # Back online it uploads them; the count it sends is from before the upload.
    rows = [row(pass_id=checkpoint.pass_["id"]) for _ in range(3)]
    resp = client.post("/api/v1/registrations/batch", json=batch(rows, pending=3),
                       headers=staff)
    assert resp.status_code == 200, resp.text
    stats = client.get(f"/api/v1/sites/{SITE}/stats", headers=checkpoint.official.headers)
    assert stats.json()["unsynced_devices"] == []


def test_a_denied_forged_scan_is_recorded_without_an_identity(client, checkpoint, session):
    forged = row(decision="deny", reasons=["bad_signature"])
    anonymous_allow = row()
    out = client.post("/api/v1/registrations/batch", json=batch([forged, anonymous_allow]),
                      headers=checkpoint.staff.headers).json()
    assert [r["status"] for r in out["results"]] == ["stored", "rejected"]
    stored = session.get(Registration, uuid.UUID(forged["id"]))
    assert stored.reasons == ["bad_signature"] and stored.person_hash is None


def test_a_row_that_is_not_an_object_is_rejected_alone(client, checkpoint, session):
    good = [row(pass_id=checkpoint.pass_["id"]) for _ in range(3)]
    odd = [42, "a row", None, ["list"]]
    resp = client.post("/api/v1/registrations/batch", json=batch(good[:1] + odd + good[1:]),
                       headers={**checkpoint.staff.headers, "Accept-Language": "en"})
    assert resp.status_code == 200, resp.text  # was 422 with nothing stored
    out = resp.json()
    assert (out["stored"], out["rejected"]) == (3, 4)
    assert [r["status"] for r in out["results"]] == ["stored"] + ["rejected"] * 4 + ["stored"] * 2
    assert "JSON object" in out["results"][1]["error"]
    assert _count(session, [r["id"] for r in good]) == 3


@pytest.mark.parametrize("sent_at", [None, "2026-12-02T14:00:00", "yesterday"])
def test_a_batch_needs_sent_at_with_a_time_zone(client, checkpoint, session, sent_at):
    r = row(pass_id=checkpoint.pass_["id"])
    body = batch([r], sent_at=sent_at)
    if sent_at is None:
        del body["sent_at"]
    resp = client.post("/api/v1/registrations/batch", json=body,
                       headers={**checkpoint.staff.headers, "Accept-Language": "en"})
    assert resp.status_code == 422, resp.text  # was stored, the clock unmeasured
    assert "time zone" in resp.json()["error"]["fields"]["sent_at"]
    assert _count(session, [r["id"]]) == 0


def test_a_phone_six_hours_ahead_has_its_rows_flagged_and_counted(client, checkpoint,
                                                                  session):
    ahead = datetime.now(UTC) + timedelta(hours=6)
    # Its clock is ahead, and it says so in its own (wrong) local zone: +08:00.
    local = ahead.astimezone(LOCAL_TZ)
    late = [row(pass_id=checkpoint.pass_["id"], occurred_at=(local - timedelta(minutes=m))
                .isoformat()) for m in (1, 2)]
    on_time = row(pass_id=checkpoint.pass_["id"])
    out = client.post("/api/v1/registrations/batch",
                      json=batch(late + [on_time], sent_at=local.isoformat()),
                      headers=checkpoint.staff.headers).json()
    assert out["stored"] == 3 and out["skew_flagged"] is True
    flagged = {str(x.id): x.future_flagged for x in session.scalars(select(Registration).where(
        Registration.id.in_([uuid.UUID(x["id"]) for x in [*late, on_time]])))}
    assert flagged == {late[0]["id"]: True, late[1]["id"]: True, on_time["id"]: False}
    day = local.date().isoformat()
    stats = client.get(f"/api/v1/sites/{SITE}/stats", params={"day": day},
                       headers=checkpoint.official.headers).json()
    assert stats["future_flagged"] == 2
    page = client.get(f"/sites/{SITE}", params={"day": day},
                      headers={**checkpoint.official.headers, "Accept-Language": "en"})
    assert "2 registrations were timed after the server received them" in page.text


def test_a_single_check_timed_in_the_future_is_flagged(client, checkpoint, session):
    from tests.registrations.conftest import reg_body

    ahead = (datetime.now(UTC) + timedelta(hours=6)).isoformat()
    body = reg_body(token=checkpoint.pass_["token"], occurred_at=ahead, sent_at=ahead)
    resp = client.post("/api/v1/registrations", json=body, headers=checkpoint.staff.headers)
    assert resp.status_code == 200, resp.text
    assert session.get(Registration, uuid.UUID(body["id"])).future_flagged is True
