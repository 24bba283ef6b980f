"""The dashboard's per-day counts stay exact; the fast export writes the same cells."""

from __future__ import annotations

import csv
import io
import random
from datetime import timedelta

from sqlalchemy import func, select

from passtrace.core.export import csv_batched_chunks, csv_chunks
from passtrace.reports import counts
from passtrace.reports.models import DailyReport, ReportDayCount
from tests.reports.conftest import CODE, commute, file, new_id


def _counts(session):  # type: ignore[no-untyped-def]
    session.expire_all()
    return {(r.report_date, r.department_id): r.submitted
            for r in session.scalars(select(ReportDayCount))}


def _recounted(session):  # type: ignore[no-untyped-def]
    return {(d, dept): n for d, dept, n in session.execute(
        select(DailyReport.report_date, DailyReport.department_id, func.count())
        .group_by(DailyReport.report_date, DailyReport.department_id))}


def test_counts_follow_filing_amending_retries_and_quick_filing(client, world, session):
    alice, bob, carol = (world.staff[k].persona for k in ("alice", "bob", "carol"))
    sales, production = world.depts["销售部"].id, world.depts["生产部"].id
    today, yesterday = world.today, world.today - timedelta(days=1)
    rid = new_id()
    assert file(client, alice, today, id=rid).status_code == 201
    assert file(client, alice, today, id=rid).status_code == 200  # retried: no new count
    assert file(client, alice, today, temperature=37.8).status_code == 200  # amended
    assert file(client, bob, yesterday).status_code == 201
    assert client.post("/api/v1/reports/quick", headers=bob.headers, json={
        "kind": "same_as_yesterday", "temperature": 36.4}).status_code == 201
    assert client.post("/api/v1/reports/quick", headers=carol.headers, json={
        "kind": "stayed_home", "temperature": 36.6}).status_code == 201
    assert client.post("/api/v1/reports/quick", headers=carol.headers, json={
        "kind": "stayed_home", "temperature": 36.7}).status_code == 200  # re-filed
    # A refused report counts nothing.
    assert file(client, alice, yesterday, temperature=45).status_code == 422
    expected = {(today, production): 1, (today, sales): 2, (yesterday, sales): 1}
    assert _counts(session) == expected == _recounted(session)
    b = client.get("/api/v1/reports/dashboard", params={"enterprise": CODE},
                   headers=world.admin.headers).json()
    assert b["submitted"] == 3
    assert [p["submitted"] for p in b["trend"][-2:]] == [1, 3]
    head = client.get("/api/v1/reports/dashboard", params={"enterprise": CODE},
                      headers=world.head.headers).json()
    assert head["submitted"] == 2 and head["trend"][-1]["submitted"] == 2


def test_rebuild_recounts_bulk_loaded_reports(client, world, session):
    file(client, world.staff["alice"].persona, world.today)
    file(client, world.staff["bob"].persona, world.today)
    session.execute(ReportDayCount.__table__.delete())
    assert _counts(session) == {}
    counts.rebuild(session=session, enterprise_id=world.ent.id)
    assert _counts(session) == _recounted(session)
    assert sum(_counts(session).values()) == 2


def test_export_cells_are_exact_and_neutralised(client, world, session):
    # Risky text in the stored data itself, not only in what a filer types.
    world.depts["销售部"].name = "=销售部"
    world.staff["bob"].employee.employee_no = "-E7"
    session.commit()
    stops = commute(world.today)
    stops[1].update(place="@SUM(A1)", mode="flight", ref="CA1832", seat="32A")
    file(client, world.staff["bob"].persona, world.today, stops=stops, temperature=37.0,
         symptoms=["cough", "fever"])
    file(client, world.staff["alice"].persona, world.today, stayed_home=True, stops=[])
    resp = client.get("/api/v1/reports/export", headers={**world.admin.headers,
                                                         "Accept-Language": "en"},
                      params={"enterprise": CODE, "from": str(world.today),
                              "to": str(world.today)})
    assert resp.status_code == 200, resp.text
    rows = list(csv.reader(io.StringIO(resp.content.decode("utf-8-sig"))))
    day = str(world.today)
    # Keyed by employee number and stop, so the test needs no collation order.
    by_who = {(r[2], r[9]): r for r in rows[1:]}
    assert len(rows) == 1 + 1 + 3
    assert by_who[("E0000", "")] == [day, "生产部", "E0000", "王**", "36.5", "", "yes",
                                     f"{day} 19:00", "yes", "", "", "", "", "", "", "", ""]
    # SQLite hands 37.0 back as an integer: the cell still reads 37.0 on both databases.
    assert by_who[("'-E7", "2")] == [
        day, "'=销售部", "'-E7", "李**", "37.0", "Cough;Fever", "no", f"{day} 19:00", "yes",
        "2", "520103003", "'@SUM(A1)", f"{day} 08:40", f"{day} 17:30", "Flight", "CA1832",
        "32A"]
    assert by_who[("'-E7", "3")][12:14] == [f"{day} 18:10", ""]
    # In Chinese the transport and symptoms are words a reader knows, not stored codes.
    zh = client.get("/api/v1/reports/export", headers={**world.admin.headers,
                                                       "Accept-Language": "zh-CN"},
                    params={"enterprise": CODE, "from": str(world.today), "to": str(world.today)})
    zh_rows = {(r[2], r[9]): r for r in csv.reader(io.StringIO(zh.content.decode("utf-8-sig")))}
    assert zh_rows[("'-E7", "2")][5] == "咳嗽;发热"
    assert zh_rows[("'-E7", "2")][14] == "飞机"


def test_batched_csv_matches_row_by_row_csv():
    rng = random.Random(7)
    alphabet = ["a", "家", "=", "+", "-", "@", "\t", "\r", "\n", ",", '"', "1", " "]
    rows = [tuple("".join(rng.choice(alphabet) for _ in range(rng.randint(0, 4)))
                  for _ in range(5)) + (rng.choice([None, 1, 36.5, -2]),)
            for _ in range(3000)]
    header = ["a", "=b", "c", "d", "e", "f"]
    batches = [rows[i:i + 97] for i in range(0, len(rows), 97)]
    assert b"".join(csv_batched_chunks(header, batches)) == b"".join(csv_chunks(header, rows))
    clean = [("家", "x", 1)] * 10
    assert b"".join(csv_batched_chunks(["h"], [clean])) == b"".join(csv_chunks(["h"], clean))
