"""How the health pages read: the second official sees whose status a proposal changes
and who proposed it; the person reads why their code has its colour and the officials'
reason in words; the history is named for what it is."""

from __future__ import annotations

import re

from sqlalchemy import select

from passtrace.audit.models import AuditEntry
from passtrace.health.models import StatusFlag
from passtrace.people.models import Person


def _text(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", "", html))


def test_the_second_official_sees_whose_status_and_who_proposed(client, session,
                                                                 cast) -> None:
    person_id = cast["resident"].user.person_id
    resp = client.post("/api/v1/health/proposals", headers=cast["official"].headers, json={
        "person_id": str(person_id), "level": "red", "reason": "密接核实后需隔离"})
    assert resp.status_code == 201, resp.text
    before = session.scalar(select(AuditEntry.id).order_by(AuditEntry.id.desc()).limit(1))
    page = client.get("/health/queue", headers=cast["second"].headers)
    text = _text(page.text)
    assert "李* → 红码" in text
    assert "理由：“密接核实后需隔离”" in text
    assert "由测试用户于" in text and "提议" in text
    # the masked name shown is a read of the person, in their access log
    reads = session.scalars(select(AuditEntry.action).where(
        AuditEntry.id > before, AuditEntry.subject_person_id == person_id)).all()
    assert "health.view" in reads


def test_the_person_reads_why_their_code_has_its_colour(client, session, cast) -> None:
    person_id = cast["resident"].user.person_id
    resp = client.post("/api/v1/health/proposals", headers=cast["official"].headers, json={
        "person_id": str(person_id), "level": "yellow", "reason": "与病例同乘公交"})
    pid = resp.json()["id"]
    done = client.post(f"/api/v1/health/proposals/{pid}/decision",
                       headers=cast["second"].headers, json={"approve": True, "note": "核实"})
    assert done.status_code == 200, done.text
    assert session.scalar(select(StatusFlag.id).where(StatusFlag.person_id == person_id))
    page = client.get("/health/me", headers=cast["resident"].headers)
    text = _text(page.text)
    assert "为什么是这个颜色" in text and "申请理由" not in text
    assert "两名工作人员人工设定了您的健康码。" in text and "理由如下" not in text
    assert "理由：“与病例同乘公交”" in text
    assert "健康码变更记录" in text and "办理记录" not in text
    english = _text(client.get("/health/me", headers={**cast["resident"].headers,
                                                      "Accept-Language": "en"}).text)
    assert "Why this colour" in english and "Their reason: “与病例同乘公交”" in english


def test_a_person_with_no_name_on_file_is_shown_by_masked_number(client, session,
                                                                  cast) -> None:
    # A person a tracing team typed in by ID number alone has no name: the queue links
    # their masked number instead of an empty link.
    person = session.get(Person, cast["resident"].user.person_id)
    person.name_masked = ""
    session.flush()
    resp = client.post("/api/v1/health/proposals", headers=cast["official"].headers, json={
        "person_id": str(person.id), "level": "red", "reason": "密接核实后需隔离"})
    assert resp.status_code == 201, resp.text
    page = client.get("/health/queue", headers=cast["second"].headers)
    link = re.search(r'class="proposal-person">([^<]*)</a>', page.text)
    assert link and link.group(1).strip() == person.id_masked
