"""Two officials deciding one appeal against stricter rules at once: one decision."""

from __future__ import annotations

import random

from sqlalchemy import func, select

from passtrace.audit.models import AuditEntry
from passtrace.communities.compounds import rule_changes
from passtrace.communities.compounds import service as community_service
from passtrace.communities.compounds.models import Community, RuleAppeal, RuleChange
from passtrace.communities.compounds.schemas import CommunityCreate, ResidentCreate, RulesWrite
from passtrace.people import service as people_service
from tests.concurrency import committed_persona, race
from tests.conftest import next_id_number


def test_two_officials_deciding_one_rule_appeal_at_once_decide_once(committed_rt,  # type: ignore[no-untyped-def]
                                                                     committed_client):
    rt = committed_rt
    code = f"520102006{random.randrange(100, 1000)}"
    maker = committed_persona(rt, committed_client, "official", "area", "520102")
    with rt.sessions() as s:
        community_service.create(session=s, actor=maker.principal,
                                 data=CommunityCreate(code=code, name="竞争小区"))
        community_service.add_building(session=s, actor=maker.principal, code=code, name="1",
                                       units=["1"])
        id_number = next_id_number()
        community_service.add_resident(session=s, rt=rt, actor=maker.principal, code=code,
                                       data=ResidentCreate(building="1", unit="1", room="101",
                                                           id_number=id_number, name="住户",
                                                           role="owner"))
        found = people_service.find_by_id_number(session=s, vault=rt.vault, id_number=id_number)
        assert found is not None
        person_id = found.id
        community_service.set_rules(session=s, actor=maker.principal, code=code,
                                    data=RulesWrite(max_out_per_household=1),
                                    reason_code="directive", reason="区防控办通知")
        s.commit()
    resident = committed_persona(rt, committed_client, "public", person_id=person_id)
    with rt.sessions() as s:
        c = s.scalars(select(Community).where(Community.code == code)).one()
        change_id = s.scalar(select(RuleChange.id).where(
            RuleChange.community_id == c.id))
        appeal = rule_changes.file(session=s, actor=resident.principal, change_id=change_id,
                                   text="老人就医需要两人陪同")
        s.commit()
    a = committed_persona(rt, committed_client, "official", "area", "520102")
    b = committed_persona(rt, committed_client, "official", "area", "520102")

    def decide_as(who, outcome):  # type: ignore[no-untyped-def]
        return lambda s: rule_changes.decide(session=s, settings=rt.settings,
                                             actor=who.principal, appeal_id=appeal.id,
                                             outcome=outcome, reason="核实后作出决定")

    # One reverses, the other upholds: only the appeal's row lock keeps it to one decision.
    outcomes = race(rt, decide_as(a, "reversed"), decide_as(b, "upheld"))
    assert outcomes.count("ok") == 1, outcomes
    assert set(outcomes) <= {"ok", "Conflict", "busy"}, outcomes
    with rt.sessions() as s:
        status = s.get(RuleAppeal, appeal.id).status
        assert status == ("reversed" if outcomes[0] == "ok" else "upheld")
        c = s.scalars(select(Community).where(Community.code == code)).one()
        assert c.max_out_per_household == (None if status == "reversed" else 1)
        assert s.scalar(select(func.count()).select_from(AuditEntry).where(
            AuditEntry.action.like("community.rules.appeal.%"),
            AuditEntry.resource_id == str(change_id))) == 1
