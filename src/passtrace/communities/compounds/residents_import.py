"""Import households and residents from the property office's spreadsheet, row by row.

The columns are the ones a property office already keeps: building, unit, room,
name, ID number, phone (and optionally the role). Every row is checked first;
nothing is written if any row is refused, unless the manager chooses to import
the valid rows. Re-importing the same sheet changes nothing.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from passtrace.audit import service as audit_service
from passtrace.communities.compounds import service as community_service
from passtrace.communities.compounds.models import Building, Community, Household, Resident
from passtrace.core import imports
from passtrace.core.clock import utcnow
from passtrace.core.errors import ValidationFailed
from passtrace.core.i18n import N_
from passtrace.core.ids import uuid7
from passtrace.core.imports import ImportResult, Matched, Problem, person_cells
from passtrace.core.runtime import Runtime
from passtrace.core.security import Principal
from passtrace.core.tabular import SheetRow
from passtrace.people import claims as person_claims
from passtrace.people.models import Person
from passtrace.people.service import protected_columns

REQUIRED = ("building", "unit", "room", "name", "id_number")
ALIASES: dict[str, tuple[str, ...]] = {
    "building": ("楼栋", "楼号", "栋", "楼栋号", "幢", "bldg", "building no"),
    "unit": ("单元", "单元号", "entrance"),
    "room": ("房号", "房间号", "门牌号", "室", "户号", "room no", "flat", "apartment"),
    "name": ("姓名", "住户姓名", "full name"),
    "id_number": ("身份证号", "身份证号码", "身份证", "id number", "id no", "id",
                  "id card number"),
    "phone": ("手机号", "手机号码", "手机", "联系电话", "电话", "mobile", "phone number"),
    "role": ("身份", "关系", "与户主关系", "住户类型", "类型", "resident type", "relation"),
}
ROLE_ALIASES = {
    "owner": "owner", "业主": "owner", "户主": "owner", "房主": "owner",
    "tenant": "tenant", "租户": "tenant", "租客": "tenant", "承租人": "tenant",
    "family": "family", "家属": "family", "家庭成员": "family", "配偶": "family",
    "子女": "family", "父母": "family", "亲属": "family",
    "live_in_worker": "live_in_worker", "live-in worker": "live_in_worker",
    "保姆": "live_in_worker", "住家保姆": "live_in_worker", "护工": "live_in_worker",
    "家政": "live_in_worker",
}
TEMPLATE = ("楼栋,单元,房号,姓名,身份证号,手机号,身份\r\n"
            "3,2,501,张三,520102199001011234,13800000000,业主\r\n")


def template_csv() -> bytes:
    """A sheet to fill in (UTF-8 with BOM, so Excel opens the Chinese headers correctly)."""
    return b"\xef\xbb\xbf" + TEMPLATE.encode()


@dataclass
class _Row:
    row: int
    building: str
    unit: str
    room: str
    name: str
    id_number: str
    phone: str | None
    role: str
    id_hash: str = ""
    person_id: uuid.UUID | None = None


EMPTY = {"building": N_("The building is empty."), "unit": N_("The unit is empty."),
         "room": N_("The room number is empty.")}


def _label(raw: str, field: str, limit: int, row: int, problems: list[Problem]) -> str:
    try:
        return community_service.clean_label(raw, field, limit)
    except ValidationFailed:
        if not raw.strip():
            problems.append(Problem(row, field, EMPTY[field]))
        else:
            problems.append(Problem(row, field, N_("Too long: at most %(limit)s characters."),
                                    {"limit": limit}))
        return ""


def _check_row(r: SheetRow, buildings: dict[str, Building],
               problems: list[Problem]) -> _Row | None:
    bad = len(problems)
    cells = r.cells
    building = _label(cells["building"], "building", 32, r.number, problems)
    unit = _label(cells["unit"], "unit", 16, r.number, problems)
    room = _label(cells["room"], "room", 16, r.number, problems)
    b = buildings.get(building)
    if building and b is None:
        problems.append(Problem(r.number, "building",
                                N_("There is no building %(building)s in this community."),
                                {"building": building}))
    elif b is not None and unit and unit not in b.units:
        problems.append(Problem(r.number, "unit",
                                N_("Building %(building)s has no unit %(unit)s."),
                                {"building": building, "unit": unit}))
    name, id_number, phone = person_cells(r, problems)
    role = "family"
    if cells["role"]:
        found = ROLE_ALIASES.get(cells["role"].strip().lower())
        if found is None:
            problems.append(Problem(r.number, "role",
                                    N_("Unknown role %(role)s: use 业主/owner, 租户/tenant, "
                                       "家属/family or 保姆/live-in worker."),
                                    {"role": cells["role"][:20]}))
        else:
            role = found
    if len(problems) > bad:
        return None
    return _Row(r.number, building, unit, room, name, id_number, phone, role)


def import_households(*, session: Session, rt: Runtime, actor: Principal, code: str,
                      filename: str, content: bytes, import_valid: bool = False
                      ) -> ImportResult:
    """Import a household list; all or nothing unless import_valid.

    A resident already living in the same flat is "unchanged"; one living in another
    flat of this compound is refused (move them on the household page). New flats are
    created; new residents get their household pass. Writes are bulk: a few lookups
    and multi-row INSERTs whatever the size of the sheet.
    """
    c = community_service.get_managed(session=session, actor=actor, code=code)
    buildings = {b.name: b for b in community_service.buildings(session=session, c=c)}
    sheet = imports.Sheet(ALIASES, REQUIRED,
                          lambda r, problems: _check_row(r, buildings, problems),
                          unique={"id_number": imports.SAME_ID_NUMBER})
    return imports.run(
        sheet, content, filename, import_valid=import_valid,
        match=lambda rows, problems: _match(session, rt, c, buildings, rows, problems),
        write=lambda matched, result: _write(session, rt, actor, c, buildings, matched, result,
                                             partial=import_valid))


def _match(session: Session, rt: Runtime, c: Community, buildings: dict[str, Building],
           rows: list[_Row], problems: list[Problem]) -> Matched[_Row]:
    """New residents and those already in the same flat; one in another flat is a problem."""
    for x in rows:
        x.id_hash = rt.vault.lookup_hash(x.id_number)
    people = _people_by_hash(session, [x.id_hash for x in rows])
    living = _residents_by_person(session, c, list(people.values()))
    flats = _households(session, c)
    matched: Matched[_Row] = Matched()
    for x in rows:
        x.person_id = people.get(x.id_hash)
        current = living.get(x.person_id) if x.person_id else None
        if current is None:
            matched.new.append(x)
        elif flats.get((buildings[x.building].id, x.unit, x.room)) == current.household_id:
            matched.unchanged.append(x)
        else:
            problems.append(Problem(
                x.row, "id_number",
                N_("Already a resident of another flat in this community; move them "
                   "on the household page.")))
    return matched


def _write(session: Session, rt: Runtime, actor: Principal, c: Community,
           buildings: dict[str, Building], matched: Matched[_Row], result: ImportResult, *,
           partial: bool) -> int:
    """Create flats, people and residents in bulk, their claims, passes and audit."""
    flats = _households(session, c)
    new_people: list[dict[str, Any]] = []
    new_households: list[dict[str, Any]] = []
    new_residents: list[dict[str, Any]] = []
    # What the office typed for each new resident: its claim, never the person's own.
    claimed: dict[uuid.UUID, tuple[str, str | None]] = {}
    now = utcnow()
    for x in matched.new:
        b = buildings[x.building]
        flat = flats.get((b.id, x.unit, x.room))
        if flat is None:
            flat = uuid7()
            flats[(b.id, x.unit, x.room)] = flat
            new_households.append({"id": flat, "community_id": c.id, "building_id": b.id,
                                   "unit": x.unit, "room": x.room, "created_at": now})
        person_id = x.person_id
        if person_id is None:
            person_id = uuid7()
            new_people.append({
                "id": person_id, "status": "green", "created_at": now,
                **protected_columns(rt.vault, x.id_number, x.name, x.phone, x.id_hash)})
        new_residents.append({"id": uuid7(), "community_id": c.id, "household_id": flat,
                              "person_id": person_id, "role": x.role, "created_at": now})
        claimed[person_id] = (x.name, x.phone)
    if new_people:
        session.execute(insert(Person), new_people)
    if new_households:
        session.execute(insert(Household), new_households)
    if new_residents:
        session.execute(insert(Resident), new_residents)
    person_claims.store_many(session=session, vault=rt.vault, source_kind="community",
                             source_id=c.id, claimed=claimed)
    session.flush()
    created = list(session.scalars(select(Resident).where(
        Resident.id.in_([r["id"] for r in new_residents])))) if new_residents else []
    community_service.issue_household_passes(session=session, rt=rt, actor=actor, c=c,
                                             residents=created)
    _audit(session, actor, c, new_people, new_residents, rows=result.rows,
           unchanged=result.unchanged, refused=imports.refused_rows(result), partial=partial)
    return len(new_residents)


def _chunks(items: list[Any], size: int = 1000) -> list[list[Any]]:
    return [items[i:i + size] for i in range(0, len(items), size)]


def _people_by_hash(session: Session, hashes: list[str]) -> dict[str, uuid.UUID]:
    found: dict[str, uuid.UUID] = {}
    for chunk in _chunks(hashes):
        found.update({h: pid for h, pid in session.execute(
            select(Person.id_hash, Person.id).where(Person.id_hash.in_(chunk)))})
    return found


def _residents_by_person(session: Session, c: Community,
                         person_ids: list[uuid.UUID]) -> dict[uuid.UUID, Resident]:
    found: dict[uuid.UUID, Resident] = {}
    for chunk in _chunks(person_ids):
        found.update({r.person_id: r for r in session.scalars(select(Resident).where(
            Resident.community_id == c.id, Resident.person_id.in_(chunk)))})
    return found


def _households(session: Session, c: Community) -> dict[tuple[uuid.UUID, str, str], uuid.UUID]:
    return {(b, u, r): hid for hid, b, u, r in session.execute(
        select(Household.id, Household.building_id, Household.unit, Household.room)
        .where(Household.community_id == c.id))}


def _audit(session: Session, actor: Principal, c: Community, new_people: list[dict[str, Any]],
           new_residents: list[dict[str, Any]], **detail: Any) -> None:
    entries: list[dict[str, Any]] = [
        {"action": "person.register", "resource_type": "person", "resource_id": p["id"],
         "subject_person_id": p["id"]} for p in new_people]
    entries += [{"action": "community.resident.add", "resource_type": "resident",
                 "resource_id": r["id"], "subject_person_id": r["person_id"],
                 "detail": {"community": c.code, "household": str(r["household_id"]),
                            "role": r["role"], "via": "import"}} for r in new_residents]
    entries.append({"action": "community.import", "resource_type": "community",
                    "resource_id": c.code,
                    "detail": {**detail, "imported": len(new_residents)}})
    audit_service.record_many(session=session, actor=actor, entries=entries)
