"""The offline decision (decide.js in the browser) says exactly what the server's says.

The checkpoint page decides by itself when the network is gone; a guard must
get the same verdict and the same reasons either way. Every case below runs
through rules/decide.py and through static/js/checkpoint/decide.js
in real Chromium, and the two must agree.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from passtrace.rules.decide import (
    Facts,
    PassFacts,
    SiteRules,
    decide,
)

NOW = datetime(2026, 11, 26, 4, 30, tzinfo=UTC)  # 12:30 in Beijing
HOUR = timedelta(hours=1)


def _case(**kw: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "site": {"code": "CP-NM-01", "area_code": "520102006", "fever_threshold": 37.3,
                 "opening_hours": [], "community_code": ""},
        "now": NOW, "direction": "in", "temperature": 36.5, "inside": False,
        "pass": {"valid_from": NOW - HOUR, "valid_until": NOW + 24 * HOUR,
                 "areas": ["520102006"], "sites": []},
        "pass_rejected": None, "status": None,
    }
    for key, value in kw.items():
        if key in ("areas", "sites", "valid_from", "valid_until"):
            base["pass"] = {**base["pass"], key: value}
        elif key in ("fever_threshold", "opening_hours", "area_code", "community_code"):
            base["site"] = {**base["site"], key: value}
        else:
            base[key] = value
    return base


CASES = [
    _case(),
    _case(temperature=37.3),
    _case(temperature=37.25),  # rounds to 37.3 on both sides
    _case(temperature=37.2),
    _case(temperature=None),
    _case(fever_threshold=37.8, temperature=37.5),
    _case(valid_until=NOW - HOUR),
    _case(valid_until=NOW),  # expires exactly now
    _case(valid_from=NOW + HOUR),
    _case(areas=["520100"]),  # a city-wide pass covers a street in the city
    _case(areas=["520103"]),
    _case(areas=["52010200"]),
    _case(sites=["CP-NM-01"], areas=["520103"]),  # named sites narrow and decide
    _case(sites=["CP-YY-01"]),
    # A household pass names its compound: good at its gates, nowhere else.
    _case(community_code="520102006001", areas=["520102006001"]),
    _case(community_code="520102006002", areas=["520102006001"]),
    _case(areas=["520102006001"]),
    _case(inside=True),
    _case(inside=True, direction="out"),
    _case(inside=True, direction="through"),
    _case(opening_hours=["06:00-12:00"]),
    _case(opening_hours=["06:00-12:00", "12:30-13:00"]),
    _case(opening_hours=["00:00-24:00"]),
    _case(opening_hours=["13:00-24:00"]),
    _case(pass_rejected="bad_signature", temperature=38.5, inside=True),
    _case(pass_rejected="revoked"),
    _case(**{"pass": None}),
    _case(**{"pass": None}, temperature=39.0),
    # The holder's status from the signed status list (a pass on it), as online.
    _case(status="red"),
    _case(status="yellow", temperature=38.0),
    _case(status="red", areas=["520103"]),
    _case(valid_until=NOW - HOUR, areas=["520103"], temperature=38.0, inside=True,
          opening_hours=["00:00-01:00"]),
]


def _python(case: dict[str, Any]) -> list[str]:
    site = case["site"]
    p = case["pass"]
    facts = Facts(
        site=SiteRules(code=site["code"], area_code=site["area_code"],
                       fever_threshold=site["fever_threshold"],
                       opening_hours=tuple(site["opening_hours"]),
                       community_code=site["community_code"]),
        now=case["now"], direction=case["direction"], temperature=case["temperature"],
        pass_facts=PassFacts(valid_from=p["valid_from"], valid_until=p["valid_until"],
                             areas=tuple(p["areas"]), sites=tuple(p["sites"]))
        if p and not case["pass_rejected"] else None,
        pass_rejected=case["pass_rejected"], inside=case["inside"],
        person_status=case["status"])
    return decide(facts).reasons


def _js_facts(case: dict[str, Any]) -> dict[str, Any]:
    p = case["pass"]
    return {
        "site": case["site"], "now_ms": int(case["now"].timestamp() * 1000),
        "direction": case["direction"], "temperature": case["temperature"],
        "inside": case["inside"], "passRejected": case["pass_rejected"],
        "personStatus": case["status"],
        "pass": {"validFrom": int(p["valid_from"].timestamp()),
                 "validUntil": int(p["valid_until"].timestamp()),
                 "areas": p["areas"], "sites": p["sites"]}
        if p and not case["pass_rejected"] else None,
    }


def test_offline_and_online_decisions_agree(page: Any, live_server: Any) -> None:
    page.goto("/login")
    js_reasons = page.evaluate(
        """async (cases) => {
            const m = await import('/static/js/checkpoint/decide.js');
            return cases.map((c) => m.decide({...c, now: new Date(c.now_ms)}).reasons);
        }""", [_js_facts(c) for c in CASES])
    py_reasons = [_python(c) for c in CASES]
    mismatches = [(i, py, js) for i, (py, js) in enumerate(zip(py_reasons, js_reasons,
                                                                 strict=True)) if py != js]
    assert not mismatches, mismatches
    # The table exercises every rule the device can apply offline.
    seen = {code for reasons in py_reasons for code in reasons}
    assert seen >= {"fever", "expired", "not_yet_valid", "area_not_allowed",
                    "site_not_allowed", "already_inside", "site_closed", "bad_signature",
                    "revoked", "unknown_person", "status_red", "status_yellow"}
