"""The demo speaks Chinese: what it stores for people to read, and the pages showing it,
carry no English words (logins and codes such as CP-NM-01 stay ASCII).

One SQLite demo, seeded as `passtrace demo` seeds it: the texts come from the seed
modules, not from the database, so a second backend would check nothing more.
"""

from __future__ import annotations

import re
import tempfile
from collections.abc import Iterator
from html import unescape
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from passtrace import demo
from passtrace.accounts.models import User
from passtrace.app import create_app
from passtrace.areas.models import AreaRisk
from passtrace.communities.compounds.models import Community
from passtrace.communities.deliveries.models import Delivery
from passtrace.communities.visits.models import Visit
from passtrace.core import migrate
from passtrace.core.db import session_scope
from passtrace.core.runtime import Runtime
from passtrace.enterprises.models import Department, Enterprise, ResumptionApplication
from passtrace.passes.models import Pass
from passtrace.reports.models import ReportStop
from passtrace.sites.models import Site
from passtrace.supplies.models import Depot, LedgerEntry, SupplyItem, SupplyRequest
from tests.conftest import test_settings as fast_settings

CJK = re.compile(r"[\u4e00-\u9fff]")
# An English word: two lower-case Latin letters in a row ("Community", "resident",
# "demo"). Codes (CP-NM-01, 贵A12345, G1234) and logins are not words people read.
ENGLISH = re.compile(r"[a-z]{2,}")
# Names Chinese writes in Latin letters too.
PROPER_NAMES = re.compile(r"\b(English|Excel|CSV|PassTrace|API|QR)\b")


@pytest.fixture(scope="module")
def demo_rt() -> Iterator[Runtime]:
    """A runtime over a freshly seeded SQLite demo."""
    path = Path(tempfile.mkdtemp(prefix="passtrace-zhdemo-")) / "demo.db"
    rt = Runtime.build(fast_settings(f"sqlite:///{path}"))
    try:
        migrate.upgrade(rt.engine)
        for session in session_scope(rt.sessions):
            demo.seed(session=session, rt=rt)
        yield rt
    finally:
        rt.engine.dispose()


def _english(texts: list[str]) -> list[str]:
    return [t for t in texts if ENGLISH.search(t) or not CJK.search(t)]


def test_the_names_people_read_are_chinese(demo_rt: Runtime) -> None:
    session: Session = demo_rt.sessions()
    try:
        for column in (Community.name, Community.address, Enterprise.name, Enterprise.address,
                       Department.name, Site.name, User.display_name, Visit.purpose,
                       Delivery.company, ReportStop.place, AreaRisk.note,
                       ResumptionApplication.measures, SupplyItem.name, Depot.name,
                       SupplyRequest.justification, LedgerEntry.counterparty):
            texts = list(session.scalars(select(column).distinct()))
            assert texts, column
            assert _english(texts) == [], column
        # Every pass's reason, the officials' decisions and revocations included.
        reasons = [r for row in session.execute(select(
            Pass.reason, Pass.decision_reason, Pass.revoke_reason).distinct()) for r in row
            if r is not None]
        assert "行程已取消" in reasons and _english(reasons) == []
    finally:
        session.close()


def test_the_login_table_says_in_chinese_what_each_login_is_for() -> None:
    for username, _, what in demo.login_table():
        assert username.isascii() and CJK.search(what) and not ENGLISH.search(what), what


def _visible(html: str) -> list[str]:
    """The texts of a page a reader sees: between tags, without scripts and styles."""
    body = re.sub(r"<(script|style)\b.*?</\1>", " ", html, flags=re.S)
    texts = (unescape(t) for t in re.split(r"<[^>]*>", body))
    return [" ".join(t.split()) for t in texts if t.strip()]


def _browse(client: TestClient, username: str, paths: list[str]) -> dict[str, list[str]]:
    page = client.get("/login")
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
    assert csrf is not None
    client.post("/login", data={"username": username, "password": demo.DEMO_PASSWORD,
                                "csrf_token": csrf.group(1), "next": "/"})
    shown = {}
    for path in paths:
        resp = client.get(path)
        assert resp.status_code == 200, (username, path)
        shown[path] = _visible(resp.text)
    client.cookies.clear()
    return shown


@pytest.mark.parametrize(("username", "paths", "seen"), [
    ("admin", ["/communities", "/sites", "/enterprises"],
     ["花果园第一社区", "南明区花果园大道卡口", "贵阳黔筑建设工程有限公司"]),
    ("community", ["/communities/520102006001", "/communities/520102006001/households"],
     ["花果园第一社区"]),
    ("official_nm", ["/passes/review"], ["给花果园超市配送蔬菜"]),
    ("resident2", ["/passes/mine"], ["请写明具体前往的街道"]),
    ("resident3", ["/passes/mine"], ["行程已取消"]),
    ("supplies", ["/supplies", "/supplies/requests", "/supplies/cover", "/supplies/expiring",
                  "/supplies/stock"],
     ["花果园大道卡口物资点", "医用外科口罩", "社区封控期间志愿者及居民防护用",
      "新冠抗原检测试剂盒"]),
    ("depot_cp", ["/supplies/depots"], ["花果园大道卡口物资点", "医用外科口罩", "等待审批"]),
])
def test_key_pages_show_the_seeded_data_in_chinese(demo_rt: Runtime, username: str,
                                                   paths: list[str], seen: list[str]) -> None:
    with TestClient(create_app(runtime=demo_rt)) as client:
        shown = _browse(client, username, paths)
    everything = [t for texts in shown.values() for t in texts]
    for text in seen:
        assert any(text in t for t in everything), (text, shown)
    english = {path: [t for t in texts if ENGLISH.search(PROPER_NAMES.sub("", t))]
               for path, texts in shown.items()}
    assert english == {path: [] for path in paths}
