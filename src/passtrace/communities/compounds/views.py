"""Communities API: compounds, rules, buildings, households, residents (who is out: outings)."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, File, Form, Query, Response, UploadFile
from fastapi.concurrency import run_in_threadpool
from pydantic import BaseModel, Field
from sqlalchemy import func, select

from passtrace.accounts.schemas import ClaimCodeRead
from passtrace.communities.compounds import claim_codes, overview, present, residents_import
from passtrace.communities.compounds import service as community_service
from passtrace.communities.compounds.models import Building, Household
from passtrace.communities.compounds.schemas import (
    BuildingRead,
    BuildingWrite,
    CommunityCreate,
    CommunityRead,
    HouseholdRead,
    ResidentCreate,
    ResidentRead,
    RulesChange,
)
from passtrace.core.errors import NotFound, ValidationFailed
from passtrace.core.imports import ImportReport, import_report
from passtrace.core.pagination import (
    BAD_CURSOR,
    START_AGAIN,
    Page,
    decode_cursor,
    encode_cursor,
    paginate_items,
)
from passtrace.people.models import Person
from passtrace.web import imports
from passtrace.web.deps import CurrentPrincipal, RuntimeDep, SessionDep
from passtrace.web.openapi import files
from passtrace.web.paging import DEFAULT_LIMIT, Cursor, Limit

router = APIRouter(prefix="/communities", tags=["communities"])


@router.post("", response_model=CommunityRead, status_code=201)
def create(data: CommunityCreate, session: SessionDep,
           principal: CurrentPrincipal) -> CommunityRead:
    """Register a compound in your area (officials, administrators)."""
    c = community_service.create(session=session, actor=principal, data=data)
    return present.community(session, c)


@router.get("", response_model=Page[CommunityRead])
def list_communities(session: SessionDep, principal: CurrentPrincipal,
                     q: Annotated[str, Query(max_length=60)] = "", cursor: Cursor = None,
                     limit: Limit = DEFAULT_LIMIT) -> Page[CommunityRead]:
    """The compounds you run or oversee, by name (`q` searches name, code and address)."""
    rows, nxt = paginate_items(
        community_service.list_visible(session=session, actor=principal, q=q),
        lambda c: (c.name, c.code), cursor=cursor, limit=limit)
    return Page(items=present.communities(session, rows), next=nxt)


@router.get("/{code}", response_model=CommunityRead)
def read(code: str, session: SessionDep, principal: CurrentPrincipal) -> CommunityRead:
    """One compound, its rules and its gates."""
    c = community_service.get_visible(session=session, actor=principal, code=code)
    return present.community(session, c)


@router.put("/{code}/rules", response_model=CommunityRead)
def set_rules(code: str, data: RulesChange, session: SessionDep, rt: RuntimeDep,
              principal: CurrentPrincipal) -> CommunityRead:
    """Set the outing rules and the visitor policy (null = no limit). Making a rule stricter
    needs `reason_code` and `reason`; every household is told and may appeal."""
    c = community_service.set_rules(session=session, actor=principal, code=code, data=data,
                                    reason_code=data.reason_code, reason=data.reason,
                                    settings=rt.settings)
    return present.community(session, c)


def _building_reads(session: SessionDep, bs: list[Building]) -> list[BuildingRead]:
    """Buildings with their household counts, counted in one grouped query."""
    n: dict[uuid.UUID, int] = {}
    if bs:
        n = {bid: count for bid, count in session.execute(
            select(Household.building_id, func.count())
            .where(Household.building_id.in_([b.id for b in bs]))
            .group_by(Household.building_id))}
    return [BuildingRead(id=b.id, name=b.name, units=b.units, households=n.get(b.id, 0))
            for b in bs]


@router.get("/{code}/buildings", response_model=Page[BuildingRead])
def list_buildings(code: str, session: SessionDep, principal: CurrentPrincipal,
                   cursor: Cursor = None, limit: Limit = DEFAULT_LIMIT) -> Page[BuildingRead]:
    """The compound's buildings ("2" before "10") and their units."""
    c = community_service.get_visible(session=session, actor=principal, code=code)
    rows, nxt = paginate_items(community_service.buildings(session=session, c=c),
                               lambda b: (community_service.natural_key(b.name), b.id),
                               cursor=cursor, limit=limit)
    return Page(items=_building_reads(session, rows), next=nxt)


@router.post("/{code}/buildings", response_model=BuildingRead, status_code=201)
def add_building(code: str, data: BuildingWrite, session: SessionDep,
                 principal: CurrentPrincipal) -> BuildingRead:
    """Add a building (or more units to one)."""
    b = community_service.add_building(session=session, actor=principal, code=code,
                                       name=data.name, units=data.units)
    return _building_reads(session, [b])[0]


@router.get("/{code}/households", response_model=Page[HouseholdRead])
def list_households(code: str, session: SessionDep, principal: CurrentPrincipal,
                    building: Annotated[str | None, Query(max_length=32)] = None,
                    cursor: Cursor = None,
                    limit: Limit = DEFAULT_LIMIT) -> Page[HouseholdRead]:
    """Households by building, unit and room."""
    c = community_service.get_visible(session=session, actor=principal, code=code)
    # households_page keeps its own keyset (the last household's id, in the natural
    # building/unit/room order it shares with the page); the cursor only wraps that id.
    after = decode_cursor(cursor, 1)[0] if cursor else None
    if after is not None and not isinstance(after, uuid.UUID):
        raise ValidationFailed(BAD_CURSOR, fields={"cursor": START_AGAIN})
    page = overview.households_page(session=session, c=c, building=building or "",
                                    after=after, limit=limit)
    nxt = encode_cursor((page.next_after,)) if page.next_after else None
    community_service.record_resident_reads(session=session, actor=principal, people=[
        (r.id, r.person_id) for h in page.households for r in h.residents],
        via="household_list")
    return Page(items=present.households(session, c, page.households), next=nxt)


@router.get("/{code}/households/{household_id}", response_model=HouseholdRead)
def read_household(code: str, household_id: uuid.UUID, session: SessionDep,
                   principal: CurrentPrincipal) -> HouseholdRead:
    """One household, its residents (masked) and its outing state."""
    c = community_service.get_visible(session=session, actor=principal, code=code)
    view = overview.household_view(session=session, c=c, household_id=household_id)
    if view is None:
        raise NotFound("No such household.")
    community_service.record_resident_reads(session=session, actor=principal, people=[
        (r.id, r.person_id) for r in view.residents], via="household")
    return present.households(session, c, [view])[0]


@router.post("/{code}/residents", response_model=ResidentRead, status_code=201)
def add_resident(code: str, data: ResidentCreate, session: SessionDep, rt: RuntimeDep,
                 principal: CurrentPrincipal) -> ResidentRead:
    """Register a resident (the flat is created if new) and issue their household pass."""
    r = community_service.add_resident(session=session, rt=rt, actor=principal, code=code,
                                       data=data)
    h = session.get(Household, r.household_id)
    b = session.get(Building, h.building_id) if h else None
    p = session.get(Person, r.person_id)
    assert h is not None and b is not None and p is not None
    return present.resident(r, p, community_service.household_label(b.name, h.unit, h.room),
                            None)


class RemoveResident(BaseModel):
    """Why the resident is taken off (moved out, died, registered twice...)."""

    reason: str = Field(min_length=2, max_length=200)
    reason_code: str | None = Field(default=None, max_length=24)  # coercion.REVOKE_REASONS


@router.post("/{code}/residents/{resident_id}/remove", status_code=204)
def remove_resident(code: str, resident_id: uuid.UUID, data: RemoveResident,
                    session: SessionDep, rt: RuntimeDep, principal: CurrentPrincipal) -> None:
    """Take a resident off their household; their household pass is revoked."""
    community_service.remove_resident(session=session, actor=principal, code=code,
                                      resident_id=resident_id, reason=data.reason,
                                      reason_code=data.reason_code, settings=rt.settings)




@router.post("/{code}/import", response_model=ImportReport)
async def import_households(
    code: str, session: SessionDep, rt: RuntimeDep, principal: CurrentPrincipal,
    file: Annotated[UploadFile, File(description="Household list (.xlsx or CSV): building, "
                                                 "unit, room, name, ID number, phone, role")],
    import_valid: Annotated[bool, Form(description="Import the valid rows even if some are "
                                                   "refused")] = False,
) -> ImportReport:
    """Import households and residents; nothing is written if a row is refused, unless
    import_valid. Re-importing the same sheet changes nothing."""
    # The database work runs in the threadpool, never on the event loop: a writer
    # may wait there for SQLite's write lock (core/sqlite_writes).
    content = await imports.upload(file)
    result = await run_in_threadpool(lambda: residents_import.import_households(
        session=session, rt=rt, actor=principal, code=code, filename=file.filename or "",
        content=content, import_valid=import_valid))
    return import_report(result)


@router.get("/{code}/import/template.csv", response_class=Response,
            responses=files("A household sheet to fill in.", "text/csv"))
def import_template(code: str, session: SessionDep, principal: CurrentPrincipal) -> Response:
    """A household sheet to fill in (UTF-8 CSV with the Chinese headers)."""
    community_service.get_managed(session=session, actor=principal, code=code)
    return Response(residents_import.template_csv(), media_type="text/csv; charset=utf-8",
                    headers={"Content-Disposition": 'attachment; filename="households.csv"'})


me_router = APIRouter(prefix="/me", tags=["communities"])


@me_router.get("/households", response_model=Page[HouseholdRead])
def my_households(session: SessionDep, principal: CurrentPrincipal, cursor: Cursor = None,
                  limit: Limit = DEFAULT_LIMIT) -> Page[HouseholdRead]:
    """The households you live in (with who is out and the outings used)."""
    homes = [] if principal.person_id is None else overview.my_households(
        session=session, person_id=principal.person_id)
    rows, nxt = paginate_items(homes, lambda h: (h.community.code, h.household.id),
                               cursor=cursor, limit=limit)
    return Page(items=[present.households(session, home.community, [home.household])[0]
                       for home in rows], next=nxt)


@router.post("/{code}/residents/{resident_id}/claim-code", response_model=ClaimCodeRead,
             status_code=201)
def resident_claim_code(code: str, resident_id: uuid.UUID, session: SessionDep, rt: RuntimeDep,
                        principal: CurrentPrincipal) -> ClaimCodeRead:
    """Give a resident a claim code in person (shown once; expires in 7 days; one use)."""
    raw, expires = claim_codes.issue_for_resident(session=session, rt=rt, actor=principal,
                                                  code=code, resident_id=resident_id)
    return ClaimCodeRead(code=raw, expires_at=expires)
