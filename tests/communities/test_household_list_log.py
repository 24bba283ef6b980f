"""The household list names the residents it shows in their access log."""

from __future__ import annotations

from sqlalchemy import select

from passtrace.audit.models import AuditEntry
from tests.communities.conftest import CODE


def test_the_household_list_logs_a_view_for_each_resident_shown(client, compound, session):
    page = client.get(f"/communities/{CODE}/households", headers=compound.manager.headers)
    assert page.status_code == 200
    views = session.scalars(select(AuditEntry).where(
        AuditEntry.action == "resident.view",
        AuditEntry.actor_user_id == compound.manager.user.id)).all()
    people = {r.user.person_id for r in compound.residents}
    assert people and {v.subject_person_id for v in views} == people
    # A building with no flats shows nobody, and logs nobody.
    client.get(f"/communities/{CODE}/households?building=9号楼",
               headers=compound.manager.headers)
    assert len(session.scalars(select(AuditEntry).where(
        AuditEntry.action == "resident.view")).all()) == len(views)
