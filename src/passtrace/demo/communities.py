"""Demo compounds around Guiyang: gates, buildings, households, residents with passes.

Everything is bulk-inserted (one statement per table) with what the services would
store: people hashed, encrypted and masked as people_service.register does, household
passes signed as issue_household_passes does. community_life then fills five days at the
gates, who is out now, visitors and parcels.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from passtrace.accounts.models import User
from passtrace.areas.models import Area
from passtrace.codec import PassClaims, SigningKey, encode_pass
from passtrace.communities.compounds.models import Building, Community, Household, Outing, Resident
from passtrace.communities.outings import service as outing_service
from passtrace.core.areacodes import significant_prefix
from passtrace.core.clock import utcnow
from passtrace.core.runtime import Runtime
from passtrace.core.security import Principal
from passtrace.demo.community_life import (
    Flat,
    GateSim,
    Member,
    People,
    bulk,
    uuid7_at,
    visitors_and_parcels,
)
from passtrace.notices.service import InAppNotifier
from passtrace.passes import keyring
from passtrace.passes.models import Pass
from passtrace.passes.service import seal_text
from passtrace.people.claims import claim_columns
from passtrace.people.models import Person, PersonClaim
from passtrace.registrations.models import Registration
from passtrace.sites import service as site_service
from passtrace.sites.models import Site
from passtrace.sites.schemas import SiteWrite

HGY1 = "520102006001"



@dataclass(frozen=True)
class Rules:
    """A compound's outing rules and visitor policy (None: no limit)."""

    max_out: int | None = None
    quota: int | None = None
    days: int = 1
    curfew: tuple[str, str] | None = None
    max_minutes: int | None = None
    approval: str = "auto"


@dataclass(frozen=True)
class DemoCompound:
    """A compound, its gates ((code, 门 name)) and its size: buildings x units x floors x flats."""

    code: str
    name: str
    name_en: str
    address: str
    gates: tuple[tuple[str, str], ...]
    layout: tuple[int, int, int, int]
    households: int
    rules: Rules
    at: tuple[float, float]
    block: str = ""  # building name prefix (A1, A2 ...)


STRICT = Rules(1, 1, 2, ("22:00", "06:00"), 240, "manual")
COMPOUNDS = (
    DemoCompound(HGY1, "花果园第一社区", "Huaguoyuan No.1 Community",
                 "南明区花果园大街 1 号（花果园 A 区）",
                 (("GATE-HGY1-N", "北门"), ("GATE-HGY1-E", "东门")), (8, 2, 32, 4), 240,
                 STRICT, (26.5563, 106.6902)),
    DemoCompound("520102006002", "花果园第二社区", "Huaguoyuan No.2 Community",
                 "南明区花果园大街 28 号（花果园 B 区）",
                 (("GATE-HGY2-S", "南门"), ("GATE-HGY2-W", "西门")), (6, 2, 33, 4), 160,
                 Rules(1, 1, 1, ("22:00", "06:00"), 180, "manual"), (26.5531, 106.6871)),
    DemoCompound("520102006003", "花果园第三社区", "Huaguoyuan No.3 Community",
                 "南明区五里冲路 10 号（花果园 C 区）", (("GATE-HGY3-N", "北门"),),
                 (5, 2, 30, 4), 130, Rules(2, 2, 2, ("23:00", "05:00"), 240, "auto"),
                 (26.5508, 106.6934)),
    DemoCompound("520102006004", "花果园湿地社区", "Huaguoyuan Wetland Community",
                 "南明区花果园湿地公园路 6 号", (("GATE-HGYW-E", "东门"),), (4, 2, 28, 4), 100,
                 Rules(max_minutes=300), (26.5489, 106.6850)),
    DemoCompound("520102001001", "箭道街社区", "Jiandaojie Community", "南明区箭道街 16 号",
                 (("GATE-JDJ-N", "北门"),), (4, 2, 7, 2), 50,
                 Rules(1, 1, 1, None, 180, "manual"), (26.5742, 106.7121)),
    DemoCompound("520102001002", "市府社区", "Shifu Community", "南明区市府路 33 号",
                 (("GATE-SF-E", "东门"), ("GATE-SF-W", "西门")), (5, 3, 9, 2), 70,
                 Rules(approval="manual"), (26.5783, 106.7160)),
    DemoCompound("520102002001", "遵义路南苑小区", "Zunyi Road Nanyuan Compound",
                 "南明区遵义路 90 号", (("GATE-ZYL-S", "南门"),), (6, 2, 18, 2), 80,
                 Rules(2, None, 1, ("22:30", "06:00"), 300), (26.5602, 106.7098)),
    DemoCompound("520102003001", "西湖巷小区", "Xihu Lane Compound", "南明区西湖路 55 号",
                 (("GATE-XHX-N", "北门"),), (3, 2, 11, 2), 45, Rules(None, 2, 1),
                 (26.5701, 106.7052)),
    DemoCompound("520102004001", "河滨花园", "Hebin Garden", "南明区河滨公园南路 12 号",
                 (("GATE-HBHY-W", "西门"),), (4, 2, 24, 3), 75, STRICT, (26.5662, 106.7018)),
    DemoCompound("520102005001", "兴关新村", "Xingguan New Village", "南明区兴关路 128 号",
                 (("GATE-XGXC-N", "北门"), ("GATE-XGXC-S", "南门")), (8, 2, 7, 2), 90,
                 Rules(2, 2, 1, None, 360), (26.5481, 106.7049)),
    DemoCompound("520102005002", "沙冲南路小区", "Shachong South Road Compound",
                 "南明区沙冲南路 76 号", (("GATE-SCNL-E", "东门"),), (5, 2, 18, 4), 85,
                 Rules(), (26.5372, 106.7003)),
    DemoCompound("520103001001", "富中苑", "Fuzhong Garden", "云岩区中华中路 168 号",
                 (("GATE-FZY-E", "东门"),), (3, 2, 26, 4), 70,
                 Rules(1, 1, 1, ("22:00", "06:00"), 180, "manual"), (26.5841, 106.7125)),
    DemoCompound("520103002001", "黔灵东路小区", "Qianling East Road Compound",
                 "云岩区黔灵东路 25 号", (("GATE-QLDL-N", "北门"),), (6, 2, 9, 2), 60,
                 Rules(2, None, 1, ("23:00", "05:00"), 300), (26.5923, 106.7061)),
    DemoCompound("520103003001", "北京路社区", "Beijinglu Community", "云岩区北京路 98 号",
                 (("GATE-BJL-S", "南门"), ("GATE-BJL-N", "北门")), (6, 2, 20, 4), 110,
                 Rules(1, 2, 3, ("22:00", "06:00"), 240, "manual"), (26.5984, 106.7133)),
    DemoCompound("520103003002", "中天花园", "Zhongtian Garden", "云岩区宝山北路 372 号",
                 (("GATE-ZTHY-E", "东门"), ("GATE-ZTHY-W", "西门")), (10, 2, 18, 4), 120,
                 Rules(2, 3, 1, None, 360), (26.6031, 106.7232)),
    DemoCompound("520103004001", "市西路小区", "Shixi Road Compound", "云岩区市西路 45 号",
                 (("GATE-SXL-N", "北门"),), (4, 2, 8, 2), 45, Rules(), (26.5852, 106.7031)),
    DemoCompound("520103004002", "枣山路小区", "Zaoshan Road Compound", "云岩区枣山路 60 号",
                 (("GATE-ZSL-W", "西门"),), (5, 2, 16, 3), 65, STRICT, (26.6004, 106.6992)),
    DemoCompound("520111001001", "花溪大道社区", "Huaxi Avenue Community",
                 "花溪区花溪大道中段 2 号", (("GATE-HXDD-N", "北门"),), (8, 2, 11, 2), 90,
                 Rules(2, 1, 1, ("22:30", "06:00"), 300), (26.4302, 106.6718)),
    DemoCompound("520111001002", "保利溪湖", "Poly Xihu", "花溪区贵筑路 2 号",
                 (("GATE-BLXH-E", "东门"), ("GATE-BLXH-S", "南门")), (9, 2, 18, 2), 80,
                 Rules(max_minutes=480), (26.4203, 106.6681)),
    DemoCompound("520111002001", "清溪苑", "Qingxi Garden", "花溪区溪北路 18 号",
                 (("GATE-QXY-N", "北门"),), (4, 2, 6, 2), 40,
                 Rules(1, 1, 1, ("21:30", "06:30"), 180, "manual"), (26.4152, 106.6803)),
    DemoCompound("520115001001", "世纪城社区", "Century City Community",
                 "观山湖区金阳南路 36 号（世纪城）",
                 (("GATE-SJC-N", "北门"), ("GATE-SJC-E", "东门")),
                 (12, 2, 32, 4), 150, Rules(2, 2, 1, ("23:00", "05:00"), 300),
                 (26.6321, 106.6402)),
    DemoCompound("520115001002", "会展城", "Expo City", "观山湖区林城西路 95 号",
                 (("GATE-HZC-S", "南门"),), (6, 2, 33, 4), 90, STRICT, (26.6203, 106.6301),
                 block="A"),
    DemoCompound("520115002001", "中铁逸都国际", "CREC Yidu International",
                 "观山湖区观山东路 1 号", (("GATE-ZTYD-N", "北门"), ("GATE-ZTYD-W", "西门")),
                 (10, 2, 30, 4), 110, Rules(), (26.6402, 106.6203)),
    DemoCompound("520115002002", "金阳新世界", "Jinyang New World", "观山湖区金阳南路 6 号",
                 (("GATE-JYXSJ-E", "东门"),), (8, 3, 18, 2), 80, Rules(2, None, 1, None, 360),
                 (26.6253, 106.6484)),
)

SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何罗高林龙石潘韦罗蒋田谢宋"
MALE = ("伟", "强", "磊", "军", "勇", "杰", "涛", "明", "超", "刚", "平", "建华", "志强", "国庆",
        "晓东", "海峰", "俊杰", "浩然", "子轩", "宇航", "光荣", "德富", "文斌", "永贵")
FEMALE = ("芳", "娜", "敏", "静", "丽", "艳", "娟", "霞", "秀英", "桂英", "兰", "玉梅", "丽华",
          "婷婷", "雪梅", "晓燕", "欣怡", "梓涵", "雨桐", "思琪", "春燕", "小红", "美玲", "红梅")
# The demo logins' homes: (username, compound, building, unit, room, role, family).
# Family members are (relation, sex, birth year, role); relations name them.
HOMES = (
    ("resident", HGY1, "3", "2", "501", "owner",
     (("spouse", "F", 1991, "family"), ("child", "M", 2016, "family"),
      ("parent", "F", 1962, "family"))),
    ("resident2", "520103003001", "2", "1", "1203", "tenant", (("spouse", "M", 1984, "family"),)),
    ("resident3", "520111001001", "5", "1", "302", "owner",
     (("spouse", "F", 1974, "family"), ("parent", "F", 1946, "family"),
      ("worker", "F", 1969, "live_in_worker"))),
)


def _name(rng: random.Random, sex: str, surname: str | None = None) -> str:
    return (surname or rng.choice(SURNAMES)) + rng.choice(MALE if sex == "M" else FEMALE)


def _family(rng: random.Random) -> list[tuple[str, str, int, str]]:
    """A household's make-up: (relation, sex, birth year, role), the first one registered it."""
    kind = rng.random()
    head_sex = rng.choice("MF")
    other = "F" if head_sex == "M" else "M"
    if kind < 0.22:  # tenants: a couple or flatmates
        head = ("head", head_sex, rng.randint(1980, 2000), "tenant")
        if rng.random() < 0.5:
            return [head, ("flatmate", rng.choice("MF"), rng.randint(1985, 2001), "tenant")]
        return [head, ("spouse", other, rng.randint(1980, 2000), "family")][:rng.randint(1, 2)]
    if kind < 0.30:  # an elderly owner, maybe a couple
        head = ("head", head_sex, rng.randint(1938, 1955), "owner")
        return [head, ("spouse", other, rng.randint(1938, 1956), "family")][:rng.randint(1, 2)]
    born = rng.randint(1958, 1992)
    rows = [("head", head_sex, born, "owner"), ("spouse", other, born + rng.randint(-3, 3),
                                                "family")]
    for _ in range(rng.choice((0, 1, 1, 2))):
        rows.append(("child", rng.choice("MF"), min(born + rng.randint(22, 32), 2021), "family"))
    if born < 1975 and rng.random() < 0.3:
        rows.append(("parent", rng.choice("MF"), born - rng.randint(24, 30), "family"))
    if rng.random() < 0.04:
        rows.append(("worker", "F", rng.randint(1962, 1985), "live_in_worker"))
    return rows


def _flats(c: DemoCompound, rng: random.Random, reserved: set[tuple[str, str, str]]
           ) -> list[tuple[str, str, str]]:
    n_buildings, n_units, floors, per_floor = c.layout
    every = [(f"{c.block}{b}", str(u), f"{f}{r:02d}") for b in range(1, n_buildings + 1)
             for u in range(1, n_units + 1) for f in range(1, floors + 1)
             for r in range(1, per_floor + 1)]
    picked = set(rng.sample(every, c.households - len(reserved))) | reserved
    return sorted(picked)


def seed(*, session: Session, rt: Runtime, admin: Principal) -> dict[str, int]:
    """Create the demo compounds with their gates, residents, passes and a lived-in week."""
    rng = random.Random(20200205)
    now = utcnow()
    users = {u.username: u for u in session.scalars(select(User).where(User.username.in_(
        ("community", "gate", *(h[0] for h in HOMES)))))}
    known = set(session.scalars(select(Area.code).where(Area.level == "community")))
    bulk(session, Area, [
        {"code": c.code, "name_zh": c.name, "name_en": c.name_en, "level": "community",
         "parent_code": c.code[:9]} for c in COMPOUNDS if c.code not in known])
    bulk(session, Community, [
        {"id": uuid7_at(now - timedelta(days=60), rng), "code": c.code, "name": c.name,
         "address": c.address, "max_out_per_household": c.rules.max_out,
         "outings_per_window": c.rules.quota, "window_days": c.rules.days,
         "curfew_start": c.rules.curfew[0] if c.rules.curfew else None,
         "curfew_end": c.rules.curfew[1] if c.rules.curfew else None,
         "max_out_minutes": c.rules.max_minutes, "visitor_approval": c.rules.approval,
         "created_at": now - timedelta(days=60)} for c in COMPOUNDS])
    communities = {c.code: c for c in session.scalars(select(Community))}
    existing_sites = set(session.scalars(select(Site.code)))
    for c in COMPOUNDS:
        for i, (code, gate_name) in enumerate(c.gates):
            if code not in existing_sites:
                site_service.save(session=session, actor=admin, data=SiteWrite(
                    code=code, name=c.name + gate_name, kind="community_gate",
                    area_code=c.code[:9], latitude=round(c.at[0] + 0.0015 * i, 4),
                    longitude=round(c.at[1] + 0.0015 * i, 4), lanes=["1"],
                    community_code=c.code))
    gates: dict[str, list[Site]] = {}
    for site in session.scalars(select(Site).where(Site.kind == "community_gate")):
        gates.setdefault(site.community_code, []).append(site)
    people = People(session, rt.vault, rng)
    key = keyring.current_signer(session=session, vault=rt.vault)
    rows: dict[str, list[dict[str, Any]]] = {
        "buildings": [], "households": [], "residents": [], "passes": []}
    flats: dict[str, list[Flat]] = {}
    homes: dict[str, Flat] = {}
    for c in COMPOUNDS:
        cid = communities[c.code].id
        since = now - timedelta(days=rng.randint(30, 50))
        mine = {h[0]: h for h in HOMES if h[1] == c.code}
        reserved = {(h[2], h[3], h[4]) for h in mine.values()}
        buildings = {}
        for b in range(1, c.layout[0] + 1):
            name = f"{c.block}{b}"
            buildings[name] = uuid7_at(since, rng)
            rows["buildings"].append({"id": buildings[name], "community_id": cid, "name": name,
                                      "units": [str(u) for u in range(1, c.layout[1] + 1)]})
        flats[c.code] = []
        for building, unit, room in _flats(c, rng, reserved):
            joined = since + timedelta(minutes=rng.randint(0, 20 * 24 * 60))
            flat = Flat(id=uuid7_at(joined, rng), members=[])
            rows["households"].append({"id": flat.id, "community_id": cid,
                                       "building_id": buildings[building], "unit": unit,
                                       "room": room, "created_at": joined})
            login = next((u for u, h in mine.items() if h[2:5] == (building, unit, room)), None)
            if login is not None:
                family = [("self", "", 0, mine[login][5]), *mine[login][6]]
                homes[login] = flat
            else:
                family = _family(rng)
            surname = rng.choice(SURNAMES)
            for relation, sex, born, role in family:
                if relation == "self":
                    user = users[login]  # type: ignore[index]
                    person = session.get(Person, user.person_id)
                    assert person is not None
                    m = Member(person_id=person.id, role=role, born=1985, id_hash=person.id_hash,
                               masked=person.name_masked, last4=person.id_last4)
                    surname = person.name_masked[0]
                else:
                    kin = relation in ("head", "child") or (relation == "parent" and sex == "M")
                    m = people.new(_name(rng, sex, surname if kin else None), sex, born,
                                   phone=born < 2008, since=joined)
                    m.role = role
                m.pass_id = uuid7_at(joined, rng)
                flat.members.append(m)
                rows["residents"].append({"id": uuid7_at(joined, rng), "community_id": cid,
                                          "household_id": flat.id, "person_id": m.person_id,
                                          "role": role, "pass_id": m.pass_id,
                                          "created_at": joined})
                rows["passes"].append(_household_pass(c, m, joined, rt, key, users["community"]))
            flats[c.code].append(flat)
    bulk(session, Person, people.rows)
    # The compound office's claims, so a manager can hand demo residents claim codes.
    bulk(session, PersonClaim, [
        {"id": uuid7_at(r["created_at"], rng), "created_at": r["created_at"],
         "person_id": r["person_id"], "source_kind": "community",
         "source_id": r["community_id"],
         **claim_columns(rt.vault, *people.claimed[r["person_id"]],
                         person_id=r["person_id"], source_kind="community",
                         source_id=r["community_id"])}
        for r in rows["residents"] if r["person_id"] in people.claimed])
    for table, model in (("buildings", Building), ("households", Household),
                         ("passes", Pass), ("residents", Resident)):
        bulk(session, model, rows[table])
    staff = users["gate"].id if "gate" in users else None
    outings: list[dict[str, Any]] = []
    registrations: list[dict[str, Any]] = []
    for c in COMPOUNDS:
        sim = GateSim(communities[c.code], gates[c.code], staff, now, rng)
        for flat in flats[c.code]:
            sim.household(flat, keep_home=flat in homes.values())
        sim.live_outings([f for f in flats[c.code] if f not in homes.values()])
        outings += sim.outings
        registrations += sim.registrations
    bulk(session, Outing, outings)
    bulk(session, Registration, registrations)
    north = next(g for g in gates[HGY1] if g.code == "GATE-HGY1-N")
    visitors_and_parcels(session, rt, key, now, rng, people, communities[HGY1], north,
                         homes["resident"], flats[HGY1], users)
    session.flush()
    noticed = outing_service.sweep_overdue(session=session, notifier=InAppNotifier(session),
                                           now=now, community_code=HGY1)
    return {"communities": len(COMPOUNDS), "households": len(rows["households"]),
            "residents": len(rows["residents"]), "outings": len(outings),
            "registrations": len(registrations), "overdue_noticed": noticed}


def _household_pass(c: DemoCompound, m: Member, issued: datetime, rt: Runtime, key: SigningKey,
                    manager: User) -> dict[str, Any]:
    """A household pass row, signed with the claims issue_household_passes signs."""
    until = issued + timedelta(days=rt.settings.household_pass_days)
    claims = PassClaims(pass_id=str(m.pass_id), holder=m.masked, id_last4=m.last4,
                        purpose="household", valid_from=int(issued.timestamp()),
                        valid_until=int(until.timestamp()), issued_at=int(issued.timestamp()),
                        areas=(c.code,), sites=(), plate=None, companions=0)
    return {"id": m.pass_id, "person_id": m.person_id, "applicant_user_id": manager.id,
            "purpose": "household", "reason": f"{c.name}住户", "valid_from": issued,
            "valid_until": until, "areas": [c.code], "sites": [], "plate": None,
            "companions": 0, "area_prefix": significant_prefix(c.code), "status": "approved",
            "decided_by": manager.id, "decided_at": issued, "kid": key.kid.hex(),
            # created_at: loaded now, after the sample passes
            "token_enc": seal_text(rt.vault, m.pass_id, encode_pass(claims, key))}


