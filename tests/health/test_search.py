"""Officials find a person by ID number or mobile number, in their own areas only; each hit
reaches the person's access log; out of area reads exactly like nobody (both databases)."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from passtrace.audit.models import AuditEntry
from passtrace.core.errors import ValidationFailed
from passtrace.core.pii import mask_phone
from passtrace.health import search
from passtrace.people.models import Person
from passtrace.people.service import phone_hash
from tests.conftest import PASSWORD, next_id_number

PHONE = "13912345678"


def _resident(session, rt, cast) -> tuple[Person, str]:  # type: ignore[no-untyped-def]
    """The cast's resident (known in 520102) with a phone of their own; and the ID number."""
    person = session.get(Person, cast["resident"].user.person_id)
    person.phone_enc = rt.vault.encrypt(PHONE, ad=person.pii_ad("phone_enc"))
    person.phone_masked = mask_phone(PHONE)
    person.phone_hash = phone_hash(rt.vault, PHONE)
    session.commit()
    return person, rt.vault.read(person, "id_enc")


def _fullwidth(text: str) -> str:
    return "".join(chr(ord(c) + 0xFEE0) if c.isdigit() else c for c in text)


def _searches(session, person_id) -> list[AuditEntry]:  # type: ignore[no-untyped-def]
    return list(session.scalars(select(AuditEntry).where(
        AuditEntry.subject_person_id == person_id, AuditEntry.action == "health.search")))


def test_an_id_number_typed_any_way_finds_the_person_and_the_person_sees_it(
        session, rt, cast) -> None:
    person, id_number = _resident(session, rt, cast)
    official = cast["official"].principal
    typed = _fullwidth(id_number[:6]) + " " + id_number[6:14] + "-" + id_number[14:].lower()
    hits = search.find(session=session, rt=rt, actor=official, query=typed, via="page")
    assert [p.id for p in hits] == [person.id]
    session.commit()
    (entry,) = _searches(session, person.id)
    assert entry.actor_user_id == cast["official"].user.id
    assert id_number not in str(entry.detail) and id_number[-6:] not in str(entry.detail)


def test_a_phone_number_finds_the_person_among_others_with_the_same_mask(
        session, rt, cast) -> None:
    person, _ = _resident(session, rt, cast)
    from passtrace.people import service as people_service
    people_service.register(session=session, vault=rt.vault, actor=None,
                            id_number=next_id_number(), name="赵六", phone="13912005678")
    session.commit()  # 139****5678 too, but another number
    hits = search.find(session=session, rt=rt, actor=cast["official"].principal,
                       query="+86 139-1234-5678", via="page")
    assert [p.id for p in hits] == [person.id]


def test_a_phone_stored_now_is_found_by_its_keyed_hash_and_an_older_one_by_its_mask(
        session, rt, cast) -> None:
    """A phone set by the person's proofed account keeps a keyed hash (never the number);
    a person stored before the hash existed (phone_hash NULL) is still found."""
    from passtrace.people import service as people_service
    person = session.get(Person, cast["resident"].user.person_id)
    people_service.set_own_identity(session=session, vault=rt.vault, person=person,
                                    name="李四", phone="13811112222")
    legacy = people_service.register(session=session, vault=rt.vault, actor=None,
                                     id_number=next_id_number(), name="钱七",
                                     phone="13811113333")
    legacy.phone_hash = None  # as stored before this column
    session.commit()
    assert person.phone_hash and "13811112222" not in person.phone_hash
    assert person.phone_hash != rt.vault.lookup_hash("13811112222")
    official = cast["official"].principal
    hits = search.find(session=session, rt=rt, actor=official, query="13811112222",
                       via="page")
    assert [p.id for p in hits] == [person.id]
    # The older one: out of the official's areas, so it reads like nobody; a global
    # official finds it.
    assert search.find(session=session, rt=rt, actor=official, query="13811113333",
                       via="page") == []
    admin = cast["admin"].principal
    if admin.has("health.view"):
        assert [p.id for p in search.find(session=session, rt=rt, actor=admin,
                                          query="13811113333", via="page")] == [legacy.id]


def test_out_of_area_reads_like_nobody_and_leaves_no_trace(session, rt, cast) -> None:
    person, id_number = _resident(session, rt, cast)
    other = cast["other"].principal  # an official of 520103
    assert search.find(session=session, rt=rt, actor=other, query=id_number, via="page") == []
    assert search.find(session=session, rt=rt, actor=other, query=PHONE, via="page") == []
    unknown = next_id_number()
    assert search.find(session=session, rt=rt, actor=other, query=unknown, via="page") == []
    session.commit()
    assert _searches(session, person.id) == []


@pytest.mark.parametrize("query", ["", "1234", "٥٢٠١٠٢١٩٩٠٠١٠١٠٠١X", "11010519491231002Y",
                                   "1" * 41])
def test_bad_input_is_a_clear_message_and_nothing_is_recorded(session, rt, cast,
                                                              query) -> None:
    with pytest.raises(ValidationFailed) as exc:
        search.find(session=session, rt=rt, actor=cast["official"].principal, query=query,
                    via="page")
    assert exc.value.fields["q"]
    assert session.scalar(select(AuditEntry).where(AuditEntry.action == "health.search")) \
        is None


def _login(client, username: str) -> str:  # type: ignore[no-untyped-def]
    page = client.get("/login")
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)
    client.post("/login", data={"username": username, "password": PASSWORD,
                                "csrf_token": csrf, "next": "/health/people"})
    form = client.get("/health/people")
    assert form.status_code == 200
    return re.search(r'name="csrf_token" value="([^"]+)"', form.text).group(1)


def test_the_page_links_the_hit_to_the_persons_status_and_explains_in_chinese(
        client, session, rt, cast) -> None:
    person, id_number = _resident(session, rt, cast)
    csrf = _login(client, cast["official"].user.username)
    resp = client.post("/health/people/search", data={"q": id_number, "csrf_token": csrf})
    assert resp.status_code == 200
    assert f'href="/health/people/{person.id}"' in resp.text and id_number not in resp.text
    assert client.get(f"/health/people/{person.id}").status_code == 200
    bad = client.post("/health/people/search", data={"q": "12345", "csrf_token": csrf})
    assert bad.status_code == 422 and "身份证号" in bad.text
    phone = client.post("/health/people/search", data={"q": "+86 1391234", "csrf_token": csrf})
    assert phone.status_code == 422 and "手机号应为 11 位数字" in phone.text
    nobody = client.post("/health/people/search",
                         data={"q": next_id_number(), "csrf_token": csrf})
    assert 'id="search-none"' in nobody.text
