"""Demo logins: a user for every role and three residents with proofed identities.

Login names stay ASCII (they are typed on a phone); everything a user reads, the
display names and what each login is for, is Chinese.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session

from passtrace.accounts import service as account_service
from passtrace.core.runtime import Runtime
from passtrace.core.security import Principal
from passtrace.core.validators import id_check_char
from passtrace.people import service as people_service

DEMO_PASSWORD = "demo-pass-2026"  # passes the password policy (accounts.passwords)


@dataclass(frozen=True)
class DemoUser:
    """One demo login and what it is for."""

    username: str
    role: str
    scope_type: str
    scope_value: str
    what: str
    display_name: str


DEMO_USERS = (
    DemoUser("admin", "admin", "global", "", "系统管理员", "系统管理员"),
    DemoUser("official_gy", "official", "area", "520100", "贵阳市防控办工作人员", "贵阳市防控办"),
    DemoUser("official_nm", "official", "area", "520102", "南明区防控办工作人员", "南明区防控办"),
    DemoUser("official_yy", "official", "area", "520103", "云岩区防控办工作人员", "云岩区防控办"),
    DemoUser("checkpoint", "checkpoint_staff", "site", "CP-NM-01", "花果园大道卡口值守人员",
             "南明区卡口值守"),
    DemoUser("community", "community_manager", "community", "520102006001",
             "花果园第一社区管理员", "花果园第一社区"),
    DemoUser("gate", "checkpoint_staff", "site", "GATE-HGY1-N", "花果园第一社区北门门岗",
             "门岗"),
    DemoUser("enterprise", "enterprise_admin", "enterprise", "91520100MA6J5GQX46",
             "企业人事／防疫专员", "企业防疫专员"),
    # Bound to the sales department of the first demo enterprise by demo.enterprises.
    DemoUser("dept_head", "department_head", "department", "",
             "贵阳黔筑建设销售部负责人", "销售部负责人"),
    DemoUser("supplies", "supplies_officer", "area", "520100", "贵阳市物资保障专员",
             "贵阳市物资保障组"),
    # Depot staff, bound to one depot each (demo.supplies): receive, issue, count, request.
    DemoUser("depot_nm", "supplies_officer", "depot", "DEP-NM", "南明区物资储备库保管员",
             "南明区物资储备库"),
    DemoUser("depot_cp", "supplies_officer", "depot", "DEP-CP-NM-01",
             "花果园大道卡口物资管理员（申领物资）", "花果园大道卡口物资点"),
)

# (username, name, birthplace, birth date, phone): residents of Guiyang.
DEMO_RESIDENTS = (
    ("resident", "张三", "520102", "19900307", "13885012345"),
    ("resident2", "李娜", "520103", "19851122", "13985067890"),
    ("resident3", "王建国", "520111", "19720615", "15885011223"),
)


def demo_id_number(area: str, birth: str, seq: str = "123") -> str:
    """Make a checksum-valid ID number for demo and test data."""
    first17 = area + birth + seq
    return first17 + id_check_char(first17)


def seed_users(*, session: Session, rt: Runtime) -> dict[str, Any]:
    """Create a login for every role, with its binding; return the users by login name."""
    users = {}
    for du in DEMO_USERS:
        user = account_service.create(session=session, rt=rt, actor=None, username=du.username,
                                      password=DEMO_PASSWORD, display_name=du.display_name)
        if du.scope_value or du.scope_type == "global":
            account_service.grant(session=session, actor=None, user=user, role=du.role,
                                  scope_type=du.scope_type, scope_value=du.scope_value)
        users[du.username] = user
    return users


def seed_residents(*, session: Session, rt: Runtime) -> dict[str, Principal]:
    """Register the demo residents and their logins; return their principals by login name."""
    residents = {}
    for i, (username, name, area, birth, phone) in enumerate(DEMO_RESIDENTS):
        person = people_service.register(session=session, vault=rt.vault, actor=None,
                                         id_number=demo_id_number(area, birth, f"{i + 1:02d}3"),
                                         name=name, phone=phone)
        # Demo residents signed up with proof: their own name and phone, proofed.
        people_service.set_own_identity(session=session, vault=rt.vault, person=person,
                                        name=name, phone=phone)
        user = account_service.create(session=session, rt=rt, actor=None, username=username,
                                      password=DEMO_PASSWORD, display_name=person.name_masked,
                                      person_id=person.id)
        account_service.grant(session=session, actor=None, user=user, role="public")
        residents[username] = account_service.principal_for(user)
    return residents


def login_table() -> list[tuple[str, str, str]]:
    """List (username, password, what for) for the demo banner."""
    rows = [(du.username, DEMO_PASSWORD, du.what) for du in DEMO_USERS]
    rows += [(r[0], DEMO_PASSWORD, f"居民{r[1][0]}*") for r in DEMO_RESIDENTS]
    return rows
