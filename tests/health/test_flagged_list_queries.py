"""The flagged list decides who to link for the whole page at once: the statements it
sends do not grow with the people on it (health/jurisdiction.covered)."""

from __future__ import annotations

import re
import uuid
from datetime import timedelta

from passtrace.cases.models import Case
from passtrace.core.clock import utcnow
from passtrace.passes.models import Pass
from tests.health.conftest import flag, new_person
from tests.querycount import assert_constant_queries


def _flagged(session, rt, applicant_id, n: int, known_in: str | None, via: str):  # type: ignore[no-untyped-def]
    """n red people; known in `known_in` through an open case or a live pass (or nowhere)."""
    now = utcnow()
    people = []
    for _ in range(n):
        p = new_person(session, rt)
        flag(session, p.id, "red", area_code="520102001")
        if known_in and via == "case":
            session.add(Case(person_id=p.id, person_hash=p.id_hash, classification="confirmed",
                             window_start=now - timedelta(days=4), window_end=now,
                             area_code=known_in))
        elif known_in:
            session.add(Pass(id=uuid.uuid4(), person_id=p.id, applicant_user_id=applicant_id,
                             purpose="commute", reason="上班", valid_from=now,
                             valid_until=now + timedelta(days=3), areas=[known_in], sites=[],
                             companions=0, area_prefix=known_in, status="approved"))
        people.append(p)
    session.commit()
    return people


def test_a_page_of_flagged_people_costs_the_same_statements_for_5_or_20(
        client, session, rt, make_persona, db_engine, monkeypatch) -> None:
    monkeypatch.setattr("passtrace.health.pages.DEFAULT_LIMIT", 50)
    me = make_persona("official", "area", "520102")
    applicant = make_persona("public").user.id
    groups: dict[str, list] = {"case": [], "pass": [], "nowhere": []}

    def add(per_group: int) -> None:
        groups["case"] += _flagged(session, rt, applicant, per_group, "520102001", "case")
        groups["pass"] += _flagged(session, rt, applicant, per_group, "520102006", "pass")
        groups["nowhere"] += _flagged(session, rt, applicant, per_group, "520103001", "pass")

    def page() -> None:
        resp = client.get("/health/flagged?level=red", headers=me.headers)
        assert resp.status_code == 200, resp.text
        linked = set(re.findall(r'href="/health/people/([^"]+)"', resp.text))
        listed = set(re.findall(r'data-person="([^"]+)"', resp.text))
        inside = {str(p.id) for p in groups["case"] + groups["pass"]}
        # Everyone flagged here is listed; only those known in my areas are linked.
        assert listed == inside | {str(p.id) for p in groups["nowhere"]}
        assert linked == inside

    add(2)  # 6 people
    assert_constant_queries(db_engine, page, lambda: add(5))  # then 21
