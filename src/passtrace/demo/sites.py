"""Demo sites around Guiyang."""

from __future__ import annotations

from sqlalchemy.orm import Session

from passtrace.core.security import Principal
from passtrace.sites import service as site_service
from passtrace.sites.models import Site
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


def seed(*, session: Session, official: Principal) -> dict[str, Site]:
    """Create the demo sites; return them by code."""
    sites = {}
    for data in DEMO_SITES:
        site, _ = site_service.save(session=session, actor=official, data=data)
        sites[site.code] = site
    return sites
