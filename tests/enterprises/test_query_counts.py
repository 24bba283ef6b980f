"""Enterprise lists send a fixed number of SQL statements, however many rows they show."""

from __future__ import annotations

import itertools
from datetime import date

from passtrace.core.ids import uuid7
from passtrace.enterprises.models import Department, Enterprise, ResumptionApplication
from tests.enterprises.conftest import credit_code
from tests.querycount import assert_constant_queries

AREAS = ("520102006", "520102003", "520102", "520102001")
_seq = itertools.count(1)


def _enterprises(rt, session, official, n: int, *, applying: bool = False) -> None:  # type: ignore[no-untyped-def]
    """Add n enterprises in different areas, each with a department (and an application)."""
    for _ in range(n):
        i = next(_seq)
        e = Enterprise(credit_code=credit_code(f"91520102{i:09d}"), name=f"计数企业{i}",
                       area_code=AREAS[i % len(AREAS)])
        session.add(e)
        session.flush()
        d = Department(enterprise_id=e.id, name="生产部")
        session.add(d)
        session.flush()
        if applying:
            row = {"id": uuid7()}
            session.add(ResumptionApplication(
                id=row["id"], enterprise_id=e.id, applicant_user_id=official.user.id,
                planned_date=date(2030, 1, 1), headcount={str(d.id): 1},
                measures="每日两次测温，错峰用餐。", contact_name_enc=rt.vault.encrypt(
                    "赵安全", ad=ResumptionApplication.pii_ad_for("contact_name_enc", row)),
                contact_name_masked="赵**", contact_phone_enc=rt.vault.encrypt(
                    "13800138000",
                    ad=ResumptionApplication.pii_ad_for("contact_phone_enc", row)),
                contact_phone_masked="138****8000", status="pending"))
    session.commit()


def test_the_enterprise_list_does_not_query_per_enterprise(client, rt, session, db_engine,
                                                          make_persona):
    official = make_persona("official", "area", "520102")
    _enterprises(rt, session, official, 2)

    def listing() -> None:
        resp = client.get("/api/v1/enterprises", headers=official.headers)
        assert resp.status_code == 200 and resp.json()["items"][0]["area_name"]

    assert_constant_queries(db_engine, listing,
                            lambda: _enterprises(rt, session, official, 5))


def test_the_resumption_queue_does_not_query_per_application(client, rt, session, db_engine,
                                                            make_persona):
    official = make_persona("official", "area", "520102")
    _enterprises(rt, session, official, 2, applying=True)

    def queue() -> None:
        resp = client.get("/api/v1/enterprises/resumptions", headers=official.headers)
        assert resp.status_code == 200
        assert all(r["departments"] == {k: "生产部" for k in r["headcount"]}
                   for r in resp.json()["items"])

    def page() -> None:
        resp = client.get("/enterprises/resumptions", headers=official.headers)
        assert resp.status_code == 200

    assert_constant_queries(db_engine, queue,
                            lambda: _enterprises(rt, session, official, 5, applying=True))
    assert_constant_queries(db_engine, page,
                            lambda: _enterprises(rt, session, official, 5, applying=True))
