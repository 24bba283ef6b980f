"""Demo passes: a few residents' applications, approved, pending, rejected and revoked."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy.orm import Session

from passtrace.core.clock import utcnow
from passtrace.core.runtime import Runtime
from passtrace.core.security import Principal
from passtrace.passes import service as pass_service
from passtrace.passes.schemas import PassCreate

# (resident login, purpose, areas, plate, why in the applicant's words, what the official does)
SAMPLES = (
    ("resident", "commute", ["520102006"], "贵A12345", "每天开车到花果园上班", "approve"),
    ("resident", "medical", ["520102", "520103003"], None, "到省人民医院复诊取药", "pending"),
    ("resident3", "supply", ["520102006"], "贵A6688F", "给花果园超市配送蔬菜", "pending"),
    ("resident2", "supply", ["520102001"], "贵AD12345", "为箭道街药店补货", "approve"),
    ("resident2", "other", ["520102"], None, "去南明区办事", "reject"),
    ("resident3", "commute", ["520102005"], None, "到兴关路单位值班", "revoke"),
)


def seed(*, session: Session, rt: Runtime, residents: dict[str, Principal],
         official: Principal) -> None:
    """Apply for the sample passes as the residents; the official decides them."""
    now = utcnow()
    for username, purpose, areas, plate, reason, outcome in SAMPLES:
        data = PassCreate(purpose=purpose, reason=reason,  # type: ignore[arg-type]
                          valid_from=now - timedelta(hours=1),
                          valid_until=now + timedelta(days=7), areas=areas, plate=plate)
        p = pass_service.apply(session=session, rt=rt, actor=residents[username], data=data)
        if outcome in ("approve", "revoke"):
            pass_service.approve(session=session, rt=rt, actor=official, pass_id=p.id)
        if outcome == "reject":
            pass_service.reject(session=session, actor=official, pass_id=p.id,
                                reason="请写明具体前往的街道")
        if outcome == "revoke":
            pass_service.revoke(session=session, actor=official, pass_id=p.id,
                                reason_code="other", reason="行程已取消")
