"""The verification pages as a table: the enterprise's HR and the area's official may, an
official of another area gets 404, a resident 403, bad input a clear Chinese message and
nothing changed (both databases). Who sees which report is in test_verify_pages.py."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import func, select

from passtrace.enterprises.models import Enterprise
from passtrace.tracing.models import ReportFinding
from tests.tracing.test_verify_pages import CODE, vw  # noqa: F401 - the verified world
from tests.tracing.verify_world import DAY

CJK = re.compile(r"[\u4e00-\u9fff]")
DAY_FORM = {"start": DAY.isoformat(), "end": DAY.isoformat()}

# (name, method, path, form): {ent} and {report} are filled in.
ROUTES = [
    ("summary", "get", "/verify/enterprises/{ent}?start=" + DAY.isoformat(), None),
    ("run", "post", "/verify/enterprises/{ent}/run", DAY_FORM),
    ("tolerance", "post", "/verify/enterprises/{ent}/tolerance", {"minutes": "45"}),
    ("report", "get", "/verify/reports/{report}", None),
]


def _state(session, vw):  # noqa: F811  # type: ignore[no-untyped-def]
    session.expire_all()
    return (session.get(Enterprise, vw["w"].ent.id).verify_tolerance_minutes,
            session.scalar(select(func.count()).select_from(ReportFinding)))


def _send(client, persona, method, path, form, vw):  # noqa: F811  # type: ignore[no-untyped-def]
    url = path.replace("{ent}", str(vw["w"].ent.id)).replace("{report}", str(vw["report"].id))
    return client.request(method.upper(), url, data=form, headers=persona.headers,
                          follow_redirects=False)


@pytest.mark.parametrize(("name", "method", "path", "form"), ROUTES, ids=[r[0] for r in ROUTES])
def test_each_persona_on_each_verification_page(vw, client, session, make_persona, name,  # noqa: F811
                                                 method, path, form) -> None:  # type: ignore[no-untyped-def]
    before = _state(session, vw)
    resident = _send(client, make_persona("public"), method, path, form, vw)
    assert resident.status_code == 403, name
    outsider = _send(client, make_persona("official", "area", "520103"), method, path, form, vw)
    assert outsider.status_code == 404, name
    assert _state(session, vw) == before
    # The tolerance is the enterprise's own setting; the area's official may do the rest.
    who = (make_persona("enterprise_admin", "enterprise", CODE) if name == "tolerance"
           else make_persona("official", "area", "520102"))
    ok = _send(client, who, method, path, form, vw)
    assert ok.status_code in (200, 303), (name, ok.text[:300])


BAD = [
    ("summary-order", "get", "/verify/enterprises/{ent}?start=2026-11-21&end=2026-11-20", None),
    ("summary-date", "get", "/verify/enterprises/{ent}?start=2026-02-30", None),
    ("run-order", "post", "/verify/enterprises/{ent}/run",
     {"start": "2026-11-21", "end": "2026-11-20"}),
    ("run-date", "post", "/verify/enterprises/{ent}/run", {"start": "昨天", "end": "今天"}),
    ("tolerance-low", "post", "/verify/enterprises/{ent}/tolerance", {"minutes": "4"}),
    ("tolerance-text", "post", "/verify/enterprises/{ent}/tolerance", {"minutes": "半小时"}),
]


@pytest.mark.parametrize(("name", "method", "path", "form"), BAD, ids=[b[0] for b in BAD])
def test_bad_input_on_the_verification_pages(vw, client, session, make_persona, name,  # noqa: F811
                                             method, path, form) -> None:  # type: ignore[no-untyped-def]
    hr = make_persona("enterprise_admin", "enterprise", CODE)
    before = _state(session, vw)
    resp = _send(client, hr, method, path, form, vw)
    assert 400 <= resp.status_code < 500 and resp.status_code not in (403, 404), (
        name, resp.status_code)
    text = re.sub(r"<[^>]+>", " ", resp.text)
    assert CJK.search(text), name
    assert _state(session, vw) == before, name
