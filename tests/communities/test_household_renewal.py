"""Household passes renew before they expire, through the job runner, and the manager
sees each pass's expiry on the households page."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select, update

from passtrace.audit.models import AuditEntry
from passtrace.communities.compounds import jobs as community_jobs
from passtrace.communities.compounds.models import Resident
from passtrace.passes.models import Pass
from passtrace.passes.service import pass_text
from tests.communities.conftest import CODE, pass_at_gate


def _passes_of(session, compound):  # type: ignore[no-untyped-def]
    session.expire_all()
    rows = session.execute(select(Resident.id, Pass).join(Pass, Pass.id == Resident.pass_id)
                           .order_by(Resident.created_at)).all()
    return {rid: p for rid, p in rows}


def test_passes_expiring_soon_are_renewed_once_and_revoked_ones_are_not(client, session, rt,
                                                                        compound):
    rt.settings = rt.settings.model_copy(update={"household_pass_renew_days": 30})
    now = datetime.now(UTC)
    first, second, third = _passes_of(session, compound).items()
    session.execute(update(Pass).where(Pass.id == first[1].id)
                    .values(valid_until=now + timedelta(days=10)))
    session.execute(update(Pass).where(Pass.id == second[1].id)
                    .values(valid_until=now + timedelta(days=10), status="revoked"))
    session.commit()
    assert community_jobs.renew_household_passes(rt) == 1
    assert community_jobs.renew_household_passes(rt) == 0  # idempotent
    after = _passes_of(session, compound)
    renewed = after[first[0]]
    assert renewed.id != first[1].id and renewed.status == "approved"
    assert renewed.valid_until > now + timedelta(days=rt.settings.household_pass_days - 1)
    assert renewed.person_id == first[1].person_id and renewed.areas == [CODE]
    assert renewed.applicant_user_id == first[1].applicant_user_id
    assert after[second[0]].id == second[1].id  # revoked: a person decided, left alone
    assert after[third[0]].id == third[1].id  # 180 days left: nothing to do
    audit = session.scalars(select(AuditEntry).where(AuditEntry.action == "pass.renew")).all()
    assert [(a.resource_id, a.detail["renews"]) for a in audit] == [
        (str(renewed.id), str(first[1].id))]
    # The renewed pass is what the gate now reads for this resident.
    token = pass_text(vault=rt.vault, p=renewed)
    assert token and token.startswith("PT1:")
    decision = pass_at_gate(client, compound.staff, method="qr", token=token)
    assert decision["decision"] == "allow", decision


def test_the_households_page_shows_each_pass_expiry(client, session, rt, compound):
    now = datetime.now(UTC)
    passes = list(_passes_of(session, compound).values())
    session.execute(update(Pass).where(Pass.id == passes[1].id)
                    .values(valid_until=now - timedelta(days=2)))
    session.execute(update(Pass).where(Pass.id == passes[2].id).values(status="revoked"))
    session.commit()
    page = client.get(f"/communities/{CODE}/households",
                      headers={**compound.manager.headers, "Accept-Language": "en"})
    assert page.status_code == 200
    cells = [c.split(">", 1)[1].split("</td>")[0] for c in
             page.text.split('pass-expiry"')[1:]]
    local = passes[0].valid_until.astimezone(ZoneInfo("Asia/Shanghai"))
    assert f"Valid until {local:%Y-%m-%d}" in cells[0]
    assert "Expired" in cells[1] and "No valid pass" in cells[2]
