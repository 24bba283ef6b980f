"""HR and department heads read the names their own staff list gave; officials read them
masked; every staff list read reaches each shown employee's access log."""

from __future__ import annotations

import uuid

from sqlalchemy import select

from passtrace.audit.models import AuditEntry
from tests.enterprises.conftest import add


def _views(session, person_id) -> list[AuditEntry]:
    return list(session.scalars(select(AuditEntry).where(
        AuditEntry.action == "employee.view",
        AuditEntry.subject_person_id == uuid.UUID(str(person_id)))))


def test_hr_and_the_head_read_their_own_names_officials_masked(client, world, session):
    gao = add(client, world, "销售部", 801, name="高建国")
    add(client, world, "生产部", 802, name="李红")
    url = f"/enterprises/{world.ent['id']}"
    hr = client.get(url, headers=world.admin.headers)
    assert "高建国" in hr.text and "李红" in hr.text and "高*" not in hr.text
    head = client.get(url, headers=world.head.headers)
    assert "高建国" in head.text and "李红" not in head.text
    official = client.get(url, headers=world.official.headers)
    assert "高建国" not in official.text and "高*" in official.text
    # Three readers, three entries in Gao's access log, each by its reader.
    readers = {v.actor_user_id for v in _views(session, gao["person_id"])}
    assert readers == {world.admin.user.id, world.head.user.id, world.official.user.id}
