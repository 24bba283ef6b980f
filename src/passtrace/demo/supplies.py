"""Demo medical supplies: a city warehouse, two district warehouses, a checkpoint and a
community depot; lots (one expiring soon), opening stock, two weeks of issues so days of
cover has a curve, and open requests that ask for more masks than Nanming holds.

The checkpoint's masks run short (about three days of cover against a ten-day lead
time + safety margin): the warnings run turns that into Nanming's supply-shortage alert.
Stock moves through the real services; only the history's timestamps are set back.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

from sqlalchemy import update
from sqlalchemy.orm import Session

from passtrace.core.clock import LOCAL_TZ, local_today
from passtrace.core.security import Principal
from passtrace.supplies import forecast, requests, service
from passtrace.supplies.models import Depot, LedgerEntry, SupplyItem

# (name, category, unit, pack size, shelf life in days)
ITEMS = (
    ("医用外科口罩", "mask", "只", 50, 730),
    ("N95防护口罩", "respirator", "只", 20, 1095),
    ("一次性医用检查手套", "gloves", "副", 100, 1095),
    ("医用一次性防护服", "gown", "套", 1, 1095),
    ("新冠抗原检测试剂盒", "test_kit", "盒", 20, 365),
    ("红外额温枪", "thermometer", "把", 1, None),
    ("84消毒液", "disinfectant", "瓶", 12, 365),
)
# (code, name, kind, area code): the codes are what depot staff logins are bound to.
DEPOTS = (
    ("DEP-GY-CITY", "贵阳市应急物资储备库", "city_warehouse", "520100"),
    ("DEP-NM", "南明区物资储备库", "district_warehouse", "520102"),
    ("DEP-YY", "云岩区物资储备库", "district_warehouse", "520103"),
    ("DEP-CP-NM-01", "花果园大道卡口物资点", "checkpoint", "520102006"),
    ("DEP-HGY1", "花果园第一社区物资点", "community", "520102006"),
)
MASK, N95, GLOVES, GOWN, KIT, THERMO, DISINFECT = (name for name, *_ in ITEMS)
# (depot, item, lot, days until expiry, quantity, supplier)
OPENING = (
    ("DEP-GY-CITY", MASK, "KZ20261015", 600, 20000, "贵州省应急物资储备中心"),
    ("DEP-GY-CITY", N95, "N9520260901", 900, 3000, "贵州省应急物资储备中心"),
    ("DEP-GY-CITY", GLOVES, "ST20260820", 800, 5000, "贵阳医药集团"),
    ("DEP-GY-CITY", GOWN, "FH20260710", 700, 800, "贵阳医药集团"),
    ("DEP-GY-CITY", KIT, "JC20251210", 12, 1500, "贵州省疾控中心"),  # expires soon
    ("DEP-GY-CITY", KIT, "JC20260605", 180, 2000, "贵州省疾控中心"),
    ("DEP-GY-CITY", THERMO, "WQ2026A", 1500, 200, "社会捐赠"),
    ("DEP-GY-CITY", DISINFECT, "XD20261101", 330, 800, "贵阳医药集团"),
    ("DEP-NM", MASK, "KZ20260930", 560, 1500, "贵阳市应急物资储备库"),
    ("DEP-NM", N95, "N9520260901", 900, 200, "贵阳市应急物资储备库"),
    ("DEP-NM", KIT, "JC20251210", 12, 300, "贵阳市应急物资储备库"),
    ("DEP-YY", MASK, "KZ20261015", 600, 4000, "贵阳市应急物资储备库"),
    ("DEP-CP-NM-01", MASK, "KZ20260930", 560, 3000, "南明区物资储备库"),
    ("DEP-CP-NM-01", GLOVES, "ST20260820", 800, 600, "南明区物资储备库"),
    ("DEP-HGY1", MASK, "KZ20260930", 560, 2000, "南明区物资储备库"),
    ("DEP-HGY1", KIT, "JC20260605", 180, 600, "南明区物资储备库"),
)
HISTORY_DAYS = 14
# (depot, item, units issued a day over the last two weeks, to whom)
DAILY_USE = (
    ("DEP-CP-NM-01", MASK, 180, "卡口值守人员"),  # about 3 days of cover left: short
    ("DEP-CP-NM-01", GLOVES, 20, "卡口值守人员"),
    ("DEP-HGY1", MASK, 60, "社区志愿者"),
    ("DEP-HGY1", KIT, 30, "社区核酸采样点"),
)


def _at(days_ago: int, hour: int) -> datetime:
    return datetime.combine(local_today() - timedelta(days=days_ago), time(hour), LOCAL_TZ)


def _backdate(session: Session, entries: list[LedgerEntry], when: datetime) -> None:
    session.execute(update(LedgerEntry).where(LedgerEntry.id.in_([e.id for e in entries]))
                    .values(created_at=when))


# Forecast rates (docs/supplies.md, "Rates"), so the forecast page has something to show:
# (item, driver, units per driver unit, shifts a day for staff on duty). A masked guard
# changes masks every 4 hours on a 3-shift roster; people in quarantine get two masks a
# day and a test every other day; every contact to test takes one kit; a case in
# isolation needs gloves and a gown a day for the staff caring for them.
RATES = (
    (MASK, "staff_on_duty", 2, 3),
    (MASK, "quarantined", 2, 1),
    (KIT, "quarantined", 0.5, 1),
    (KIT, "contacts_to_test", 1, 1),
    (GLOVES, "cases_in_isolation", 6, 1),
    (GOWN, "cases_in_isolation", 2, 1),
)


def seed(*, session: Session, officer: Principal, requester: Principal) -> dict[str, Depot]:
    """Create the catalogue, depots, stock, two weeks of issues, forecast rates and open
    requests."""
    items: dict[str, SupplyItem] = {}
    for name, category, unit, pack, shelf in ITEMS:
        items[name] = service.create_item(session=session, actor=None, name=name,
                                          category=category, unit=unit, pack_size=pack,
                                          shelf_life_days=shelf)
    depots = {code: service.create_depot(session=session, actor=None, code=code, name=name,
                                         kind=kind, area_code=area)
              for code, name, kind, area in DEPOTS}
    today = local_today()
    for code, item, lot, days_left, quantity, supplier in OPENING:
        entry = service.receive(session=session, actor=None, depot_id=depots[code].id,
                                item_id=items[item].id, lot_number=lot,
                                expires_on=today + timedelta(days=days_left),
                                quantity=quantity, supplier=supplier)
        # Opening stock arrived before the two weeks of history.
        _backdate(session, [entry], _at(HISTORY_DAYS + 6, 9))
    for code, item, per_day, consumer in DAILY_USE:
        for days_ago in range(HISTORY_DAYS, 0, -1):
            entries = service.issue(session=session, actor=None, depot_id=depots[code].id,
                                    item_id=items[item].id, quantity=per_day,
                                    consumer=consumer)
            _backdate(session, entries, _at(days_ago, 8))
    for item, driver, rate, shifts in RATES:
        forecast.set_rate(session=session, actor=officer, item=items[item], driver=driver,
                          rate=rate, periods_per_day=shifts)
    _requests(session, depots, items, officer=officer, requester=requester, today=today)
    session.flush()
    return depots


def _requests(session: Session, depots: dict[str, Depot], items: dict[str, SupplyItem], *,
              officer: Principal, requester: Principal, today: date) -> None:
    """Open requests for Nanming's masks: together more than its warehouse holds."""
    wanted = (
        (requester, "DEP-CP-NM-01", MASK, 1200, "high", 2, "卡口日均消耗约180只，现存仅够三天"),
        (officer, "DEP-HGY1", MASK, 1000, "critical", 1, "社区封控期间志愿者及居民防护用"),
        (officer, "DEP-HGY1", KIT, 400, "normal", 5, "社区抗原自测发放"),
    )
    for actor, code, item, quantity, priority, days, why in wanted:
        requests.file_request(session=session, actor=actor, depot_id=depots[code].id,
                              item_id=items[item].id, quantity=quantity, priority=priority,
                              needed_by=today + timedelta(days=days), justification=why)

