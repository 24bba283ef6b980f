"""Demo enterprises in Guiyang: departments, hundreds of staff, resumption applications."""

from __future__ import annotations

import csv
import io
import random
from datetime import timedelta
from typing import Any

from sqlalchemy.orm import Session

from passtrace.accounts import service as account_service
from passtrace.core.clock import local_today
from passtrace.core.runtime import Runtime
from passtrace.core.validators import credit_code_check_char, id_check_char
from passtrace.enterprises import resumption, staff_import
from passtrace.enterprises import service as enterprise_service
from passtrace.enterprises.schemas import EnterpriseCreate, ResumptionCreate

# (credit code without check character, name, area, address, departments, staff)
ENTERPRISES = (
    ("91520100MA6J5GQX4", "贵阳黔筑建设工程有限公司", "520102006", "花果园大街 8 号",
     ("工程部", "销售部", "财务部", "行政部"), 140),
    ("91520103MA6DKQ8R1", "贵州云岩数联科技有限公司", "520103003", "北京路 218 号",
     ("研发部", "市场部", "客服中心"), 110),
    ("91520111MA6HX2T07", "贵阳花溪山泉食品有限公司", "520111001", "贵筑路 66 号",
     ("生产车间", "质检部", "仓储物流部"), 70),
    ("91520115MA6KP3W5X", "贵州观山湖医药物流有限公司", "520115001", "金华园路 12 号",
     ("仓储部", "配送部"), 50),
)
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何罗高林"
GIVEN = ("伟", "芳", "娜", "敏", "静", "丽", "强", "磊", "军", "洋", "勇", "艳", "杰", "娟",
         "涛", "明", "超", "秀英", "霞", "平", "刚", "桂英", "建华", "文", "兰", "晓东")


def credit_code(body17: str) -> str:
    """Complete a credit code with its check character."""
    return body17 + credit_code_check_char(body17)


def _staff_csv(rng: random.Random, area: str, departments: tuple[str, ...], count: int,
               start: int, extra: list[list[str]]) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["部门", "姓名", "身份证号", "手机号", "工号"])
    for i in range(count):
        n = start + i
        birth = f"{1968 + n % 32}{1 + n % 12:02d}{1 + n % 28:02d}"
        first17 = f"{area[:6]}{birth}{100 + n % 900:03d}"
        writer.writerow([departments[i % len(departments)],
                         rng.choice(SURNAMES) + rng.choice(GIVEN),
                         first17 + id_check_char(first17),
                         f"139{rng.randrange(10**8):08d}", f"E{n:05d}"])
    for row in extra:
        writer.writerow(row)
    return out.getvalue().encode("utf-8")


def seed(*, session: Session, rt: Runtime, users: dict[str, Any],
         resident_id_number: str | None = None) -> dict[str, Any]:
    """Create the demo enterprises; bind the 'dept_head' user to the first one's sales dept."""
    rng = random.Random(20200210)
    admin = account_service.principal_for(users["admin"])
    official_nm = account_service.principal_for(users["official_nm"])
    made = []
    start = 1
    for i, (body, name, area, address, departments, count) in enumerate(ENTERPRISES):
        e = enterprise_service.register(session=session, actor=admin, data=EnterpriseCreate(
            credit_code=credit_code(body), name=name, area_code=area, address=address))
        depts = [enterprise_service.create_department(session=session, actor=admin, e=e,
                                                      name=d) for d in departments]
        extra = []
        if i == 0 and resident_id_number:
            # The demo resident works here, so the invite flow can be tried end to end.
            extra.append(["销售部", "张三", resident_id_number, "13885012345", "E00000"])
        staff_import.import_staff(
            session=session, rt=rt, actor=admin, e=e,
            data=_staff_csv(rng, area, departments, count, start, extra))
        start += count
        made.append((e, depts))
    first, first_depts = made[0]
    if "dept_head" in users:
        sales = next(d for d in first_depts if d.name == "销售部")
        account_service.grant(session=session, actor=None, user=users["dept_head"],
                              role="department_head", scope_type="department",
                              scope_value=str(sales.id))
    today = local_today()
    staff = {d.id: n for d, n in enterprise_service.departments(session=session, actor=admin,
                                                                e=first)}
    approved = resumption.apply_resumption(
        session=session, rt=rt, actor=admin, e=first, data=ResumptionCreate(
            planned_date=today, headcount={d.id: max(1, staff[d.id] // 2) for d in first_depts},
            measures="每日两次测温并登记；错峰上下班、分餐；办公区每日消毒两次；"
                     "设置临时隔离观察点。",
            contact_name="周安全", contact_phone="13908510001"))
    resumption.approve_resumption(session=session, actor=official_nm,
                                  resumption_id=approved.id)
    second, second_depts = made[1]
    staff2 = {d.id: n for d, n in enterprise_service.departments(session=session, actor=admin,
                                                                 e=second)}
    resumption.apply_resumption(
        session=session, rt=rt, actor=admin, e=second, data=ResumptionCreate(
            planned_date=today + timedelta(days=3),
            headcount={d.id: staff2[d.id] // 3 for d in second_depts},
            measures="远程办公为主，到岗人员每日健康打卡，会议室限员一半。",
            contact_name="吴晓东", contact_phone="13908510002"))
    return {"enterprises": [e.credit_code for e, _ in made],
            "employees": start - 1 + (1 if resident_id_number else 0)}
