"""The hand-built lake and each job's known answer on it (test_jobs.py, both engines)."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from passtrace.analytics.queries import Params

from .lakes import SITE_A, SITE_B, SITE_C, T, day, reg, write_lake

P, A, B, C, D, E, F, X = (c * 64 for c in "PABCDEFX")
CASE = "30000000-0000-0000-0000-000000000001"
E1, E2 = "40000000-0000-0000-0000-000000000001", "40000000-0000-0000-0000-000000000002"


def build(path: Path) -> Path:
    regs = [
        reg(1, P, SITE_A, T(2, 10)), reg(2, A, SITE_A, T(2, 10, 20)),
        reg(3, B, SITE_A, T(2, 10, 45)),  # 45 min after the case: not within 30
        reg(4, C, SITE_B, T(2, 10, 5)),  # same time, another site
        reg(5, A, SITE_A, T(2, 9, 40)), reg(6, D, SITE_A, T(2, 11)),
        reg(7, P, SITE_B, T(3, 9)),
        reg(8, C, SITE_B, T(3, 9, 29, 59)),
        reg(9, D, SITE_B, T(3, 8, 31)),  # 29 min before: the previous 30-minute bucket
        reg(10, B, SITE_C, T(3, 12), decision="deny", reasons=["fever", "no_pass"]),
        reg(11, E, SITE_C, T(2, 8)), reg(12, E, SITE_A, T(2, 9)),
        reg(13, X, SITE_C, T(3, 12, 30), decision="deny", reasons=["fever"]),
    ]
    stays = [
        {"id": "s1", "person_hash": P, "site_id": SITE_A, "started_at": T(2, 10),
         "ended_at": T(2, 11), "closed_by": "out"},
        {"id": "s2", "person_hash": B, "site_id": SITE_A, "started_at": T(2, 10, 45),
         "ended_at": T(2, 12), "closed_by": "out"},
        {"id": "s3", "person_hash": C, "site_id": SITE_A, "started_at": T(2, 11),  # touches
         "ended_at": T(2, 12), "closed_by": "cap"},
    ]
    sites = [
        {"id": SITE_A, "code": "A", "name": "A", "kind": "checkpoint",
         "area_code": "110101001001", "community_code": "", "active": True},
        {"id": SITE_B, "code": "B", "name": "B", "kind": "checkpoint",
         "area_code": "110102001001", "community_code": "", "active": True},
        {"id": SITE_C, "code": "C", "name": "C", "kind": "checkpoint",
         "area_code": "120101001001", "community_code": "", "active": True},
    ]
    cases = [{"id": CASE, "person_hash": P, "classification": "confirmed", "status": "open",
              "window_start": T(1, 0), "window_end": T(5, 0), "window_minutes": 30,
              "area_code": "110101", "created_at": T(3, 20)}]
    stops = [
        {"report_id": "r1", "seq": 1, "person_hash": F, "report_date": day(2),
         "area_code": "120101002", "arrive_at": T(2, 8), "mode": None},
        {"report_id": "r2", "seq": 1, "person_hash": A, "report_date": day(2),
         "area_code": "110101", "arrive_at": T(2, 8), "mode": None},
    ]
    emp = [{"id": f"50000000-0000-0000-0000-00000000000{i}", "enterprise_id": ent,
            "department_id": None, "status": status, "created_at": created}
           for i, ent, status, created in [
               (1, E1, "active", T(1, 0)), (2, E1, "active", T(1, 0)),
               (3, E1, "active", T(1, 0)), (4, E1, "left", T(1, 0)),
               (5, E2, "active", T(3, 0))]]
    reports = [
        {"id": f"r{i}", "enterprise_id": ent, "employee_id": emp[e - 1]["id"],
         "report_date": day(d), "person_hash": None, "stayed_home": False, "late": False,
         "source": "form", "submitted_at": T(d, 8)}
        for i, ent, e, d in [(1, E1, 1, 2), (2, E1, 2, 2), (3, E1, 1, 3), (4, E2, 5, 3),
                             (5, E1, 4, 3)]]  # 5: one who left: not on the roster
    enterprises = [{"id": E1, "area_code": "110101001"}, {"id": E2, "area_code": "120101"}]
    return write_lake(path, {"registrations": regs, "stays": stays, "sites": sites,
                             "cases": cases, "report_stops": stops, "employees": emp,
                             "reports": reports, "enterprises": enterprises})


def utc(y: int, m: int, d: int, h: int = 0, mi: int = 0, s: int = 0) -> datetime:
    return datetime(y, m, d, h, mi, s, tzinfo=UTC)


WINDOW = dict(day_from=day(2), day_to=day(3))

CASES: dict[str, tuple[Params, list[dict[str, object]]]] = {
    "companions": (Params(**WINDOW, case_ids=(CASE,), window_minutes=30), [
        # A: 20 min before and 20 min after the case's 10:00 at site A.
        {"date": day(2), "index_hash": P, "person_hash": A, "window_hits": 2,
         "stay_overlaps": 0, "first_at": T(2, 9, 40), "last_at": T(2, 10, 20)},
        # B: came 45 min after (no window hit) but stayed while the case was there.
        {"date": day(2), "index_hash": P, "person_hash": B, "window_hits": 0,
         "stay_overlaps": 1, "first_at": T(2, 10, 45), "last_at": T(2, 11)},
        {"date": day(3), "index_hash": P, "person_hash": C, "window_hits": 1,
         "stay_overlaps": 0, "first_at": T(3, 9, 29, 59), "last_at": T(3, 9, 29, 59)},
        {"date": day(3), "index_hash": P, "person_hash": D, "window_hits": 1,
         "stay_overlaps": 0, "first_at": T(3, 8, 31), "last_at": T(3, 8, 31)},
    ]),
    "flows": (Params(**WINDOW), [
        {"date": day(2), "origin": "120101", "destination": "110101", "moves": 1},
        {"date": day(3), "origin": "110101", "destination": "110102", "moves": 2},
    ]),
    "risk-visitors": (Params(**WINDOW, area_codes=("1201",)), [
        {"person_hash": B, "registrations": 1, "stops": 0,
         "first_seen": T(3, 12), "last_seen": T(3, 12)},
        {"person_hash": E, "registrations": 1, "stops": 0,
         "first_seen": T(2, 8), "last_seen": T(2, 8)},
        {"person_hash": F, "registrations": 0, "stops": 1,
         "first_seen": T(2, 8), "last_seen": T(2, 8)},
        {"person_hash": X, "registrations": 1, "stops": 0,
         "first_seen": T(3, 12, 30), "last_seen": T(3, 12, 30)},
    ]),
    "report-coverage": (Params(**WINDOW), [
        {"date": day(2), "enterprise_id": E1, "employees": 3, "filed": 2, "share": 0.666667},
        {"date": day(3), "enterprise_id": E1, "employees": 3, "filed": 1, "share": 0.333333},
        {"date": day(3), "enterprise_id": E2, "employees": 1, "filed": 1, "share": 1.0},
    ]),
    # The job's area (a key "JOB@what" runs JOB): flows out of or into it; a city code
    # (110100) means every code starting 1101.
    "flows@destination": (Params(**WINDOW, area_codes=("110102",)), [
        {"date": day(3), "origin": "110101", "destination": "110102", "moves": 2},
    ]),
    "flows@origin-city": (Params(**WINDOW, area_codes=("120100",)), [
        {"date": day(2), "origin": "120101", "destination": "110101", "moves": 1},
    ]),
    "report-coverage@area": (Params(**WINDOW, area_codes=("110101",)), [
        {"date": day(2), "enterprise_id": E1, "employees": 3, "filed": 2, "share": 0.666667},
        {"date": day(3), "enterprise_id": E1, "employees": 3, "filed": 1, "share": 0.333333},
    ]),
    "site-load@area": (Params(**WINDOW, area_codes=("120101",)), [
        {"site_id": SITE_C, "hour": T(2, 8), "reason": "*", "registrations": 1, "denied": 0,
         "denial_rate": 0.0},
        {"site_id": SITE_C, "hour": T(3, 12), "reason": "*", "registrations": 2, "denied": 2,
         "denial_rate": 1.0},
        {"site_id": SITE_C, "hour": T(3, 12), "reason": "fever", "registrations": 2,
         "denied": 2, "denial_rate": 1.0},
        {"site_id": SITE_C, "hour": T(3, 12), "reason": "no_pass", "registrations": 2,
         "denied": 1, "denial_rate": 0.5},
    ]),
}


def job_of(key: str) -> str:
    """The job a CASES key runs ("flows@origin-city" runs flows)."""
    return key.split("@")[0]

# site-load: a few rows out of the whole answer (every site-hour is a row).
SITE_LOAD_PARAMS = Params(**WINDOW)
SITE_LOAD_ROWS = [
    {"site_id": SITE_C, "hour": T(3, 12), "reason": "*", "registrations": 2, "denied": 2,
     "denial_rate": 1.0},
    {"site_id": SITE_C, "hour": T(3, 12), "reason": "fever", "registrations": 2,
     "denied": 2, "denial_rate": 1.0},
    {"site_id": SITE_C, "hour": T(3, 12), "reason": "no_pass", "registrations": 2,
     "denied": 1, "denial_rate": 0.5},
    {"site_id": SITE_A, "hour": T(2, 10), "reason": "*", "registrations": 3, "denied": 0,
     "denial_rate": 0.0},
]
