"""Demo data: real Guiyang divisions, a user for every role, sample passes."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy.orm import Session

from passtrace.accounts import service as account_service
from passtrace.areas import service as area_service
from passtrace.communities import demo as community_demo
from passtrace.core.clock import utcnow
from passtrace.core.runtime import Runtime
from passtrace.core.validators import id_check_char
from passtrace.enterprises import demo as enterprise_demo
from passtrace.passes import keyring
from passtrace.passes import service as pass_service
from passtrace.passes.schemas import PassCreate
from passtrace.people import service as people_service
from passtrace.registrations import demo as registration_demo
from passtrace.sites import demo as site_demo

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
    DemoUser("admin", "admin", "global", "", "administrator", "系统管理员"),
    DemoUser("official_gy", "official", "area", "520100", "official, Guiyang city",
             "贵阳市防控办"),
    DemoUser("official_nm", "official", "area", "520102", "official, Nanming district",
             "南明区防控办"),
    DemoUser("official_yy", "official", "area", "520103", "official, Yunyan district",
             "云岩区防控办"),
    DemoUser("checkpoint", "checkpoint_staff", "site", "CP-NM-01", "checkpoint staff",
             "南明区卡口值守"),
    DemoUser("community", "community_manager", "community", "520102006001",
             "community manager, Huaguoyuan No.1", "花果园第一社区"),
    DemoUser("gate", "checkpoint_staff", "site", "GATE-HGY1-N",
             "gate staff, Huaguoyuan No.1", "门岗"),
    DemoUser("enterprise", "enterprise_admin", "enterprise", "91520100MA6J5GQX46",
             "enterprise HR / safety officer", "企业防疫专员"),
    # Bound to the sales department of the first demo enterprise by enterprises.demo.
    DemoUser("dept_head", "department_head", "department", "",
             "department head, sales, 贵阳黔筑建设", "销售部负责人"),
    DemoUser("supplies", "supplies_officer", "area", "520100", "supplies officer",
             "贵阳市物资保障组"),
)

# (username, name, birth date, phone): residents of Guiyang with valid ID numbers.
DEMO_RESIDENTS = (
    ("resident", "张三", "520102", "19900307", "13885012345"),
    ("resident2", "李娜", "520103", "19851122", "13985067890"),
    ("resident3", "王建国", "520111", "19720615", "15885011223"),
)


def demo_id_number(area: str, birth: str, seq: str = "123") -> str:
    """Make a checksum-valid ID number for demo and test data."""
    first17 = area + birth + seq
    return first17 + id_check_char(first17)


def seed(*, session: Session, rt: Runtime) -> dict[str, object]:
    """Load areas, keys, users, residents and sample passes into an empty database."""
    area_service.load_bundled(session=session)
    keyring.ensure(session=session, vault=rt.vault)
    users = {}
    for du in DEMO_USERS:
        user = account_service.create(session=session, rt=rt, actor=None, username=du.username,
                                      password=DEMO_PASSWORD, display_name=du.display_name)
        if du.scope_value or du.scope_type == "global":
            account_service.grant(session=session, actor=None, user=user, role=du.role,
                                  scope_type=du.scope_type, scope_value=du.scope_value)
        users[du.username] = user
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
    official = account_service.principal_for(users["official_nm"])
    now = utcnow()
    samples = (
        ("resident", "commute", ["520102006"], "贵A12345", "approve"),
        ("resident", "medical", ["520102", "520103003"], None, "pending"),
        ("resident3", "supply", ["520102006"], "贵A6688F", "pending"),
        ("resident2", "supply", ["520102001"], "贵AD12345", "approve"),
        ("resident2", "other", ["520102"], None, "reject"),
        ("resident3", "commute", ["520102005"], None, "revoke"),
    )
    for username, purpose, areas, plate, outcome in samples:
        data = PassCreate(purpose=purpose, reason="演示数据", valid_from=now - timedelta(hours=1),  # type: ignore[arg-type]
                          valid_until=now + timedelta(days=7), areas=areas, plate=plate)
        p = pass_service.apply(session=session, rt=rt, actor=residents[username], data=data)
        if outcome in ("approve", "revoke"):
            pass_service.approve(session=session, rt=rt, actor=official, pass_id=p.id)
        if outcome == "reject":
            pass_service.reject(session=session, actor=official, pass_id=p.id,
                                reason="请改为具体街道")
        if outcome == "revoke":
            pass_service.revoke(session=session, actor=official, pass_id=p.id,
                                reason="行程取消")
    sites = site_demo.seed(session=session,
                           official=account_service.principal_for(users["admin"]))
    registration_demo.seed(session=session, site=sites["CP-NM-01"],
                           operator_user_id=users["checkpoint"].id)
    enterprise_demo.seed(session=session, rt=rt, users=users,
                         resident_id_number=demo_id_number("520102", "19900307", "013"))
    community_demo.seed(session=session, rt=rt,
                        admin=account_service.principal_for(users["admin"]))
    from passtrace.reports import demo as report_demo

    report_demo.seed(session, rt)
    return {"users": [du.username for du in DEMO_USERS] + [r[0] for r in DEMO_RESIDENTS]}


def login_table() -> list[tuple[str, str, str]]:
    """List (username, password, what for) for the demo banner."""
    rows = [(du.username, DEMO_PASSWORD, du.what) for du in DEMO_USERS]
    rows += [(r[0], DEMO_PASSWORD, f"resident {r[1][0]}*") for r in DEMO_RESIDENTS]
    return rows
