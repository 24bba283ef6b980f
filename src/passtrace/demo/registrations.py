"""Demo: a morning of registrations at the Nanming checkpoint, for the site statistics."""

from __future__ import annotations

import random
from datetime import timedelta

from sqlalchemy import insert
from sqlalchemy.orm import Session

from passtrace.core.clock import utcnow
from passtrace.core.ids import uuid7
from passtrace.registrations.models import Registration
from passtrace.sites.models import Site


def seed(*, session: Session, site: Site, operator_user_id: object) -> None:
    """Store ~6 hours of registrations at one site."""
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
