"""Demo sites around Guiyang, and a morning of registrations at the Nanming checkpoint."""

from __future__ import annotations

import random
from datetime import timedelta

from sqlalchemy import insert
from sqlalchemy.orm import Session

from passtrace.core.clock import utcnow
from passtrace.core.ids import uuid7
from passtrace.core.security import Principal
from passtrace.registrations.models import Registration
from passtrace.sites import service as site_service
from passtrace.sites.schemas import SiteWrite

DEMO_SITES = (
    SiteWrite(code="CP-NM-01", name="南明区花果园大道卡口", kind="road_checkpoint",
              area_code="520102006", latitude=26.5571, longitude=106.6935, lanes=["1", "2"]),
    SiteWrite(code="TI-NM-02", name="南明区解放路临时路口", kind="temporary_intersection",
              area_code="520102001", latitude=26.5695, longitude=106.7069, lanes=["1"],
              opening_hours=["06:00-23:00"]),
    SiteWrite(code="CP-YY-01", name="云岩区北京路卡口", kind="road_checkpoint",
              area_code="520103003", latitude=26.5921, longitude=106.7130, lanes=["1", "2", "3"]),
    SiteWrite(code="GATE-HGY1-N", name="花果园第一社区北门", kind="community_gate",
              area_code="520102006", lanes=["1"], community_code="520102006001"),
    SiteWrite(code="VEN-NM-HOSP", name="南明区人民医院入口", kind="venue",
              area_code="520102", lanes=["1"], fever_threshold=37.5),
)


def seed(*, session: Session, official: Principal, operator_user_id: object) -> None:
    """Create the demo sites and ~6 hours of registrations at CP-NM-01 for the statistics."""
    sites = {}
    for data in DEMO_SITES:
        site, _ = site_service.save(session=session, actor=official, data=data)
        sites[site.code] = site
    site = sites["CP-NM-01"]
    rng = random.Random(7)
    now = utcnow()
    t = now - timedelta(hours=6)
    rows = []
    while t < now - timedelta(minutes=2):
        t += timedelta(seconds=rng.expovariate(1 / 40))
        fever = rng.random() < 0.02
        reasons = ["fever"] if fever else (["expired"] if rng.random() < 0.03 else [])
        rows.append({
            "id": uuid7(), "site_id": site.id, "lane": rng.choice(site.lanes),
            "device_key": "demo-phone", "operator_user_id": operator_user_id,
            "occurred_at": t, "received_at": t, "clock_skew_s": 0, "skew_flagged": False,
            "direction": "through", "method": rng.choice(("qr", "qr", "qr", "id_typed")),
            "person_hash": None, "person_masked": rng.choice("张王李赵刘陈杨黄") + "*",
            "id_last4": f"{rng.randrange(10000):04d}", "pass_id": None,
            "temperature": round(rng.uniform(37.3, 38.4) if fever else rng.uniform(36.0, 37.1),
                                 1),
            "plate": None, "companions": 0, "origin": "", "destination": "",
            "decision": "deny" if reasons else "allow", "reasons": reasons,
            "decided_by": "server", "override_reason": None, "override_by": None})
    session.execute(insert(Registration), rows)
    session.flush()
