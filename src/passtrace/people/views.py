"""People API: reveal protected data (audited) and 'who viewed my data'."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Query

from passtrace.audit import access_log as access_log_service
from passtrace.core.errors import NotFound
from passtrace.core.pagination import Page
from passtrace.people import flows
from passtrace.people import service as people_service
from passtrace.people.schemas import AccessEntry, PersonRead, RevealRead, RevealRequest
from passtrace.web.deps import CurrentPrincipal, RuntimeDep, SessionDep
from passtrace.web.openapi import errors

router = APIRouter(tags=["people"])


@router.get("/me/person", response_model=PersonRead, responses=errors(404))
def my_person(session: SessionDep, principal: CurrentPrincipal) -> PersonRead:
    """Show my own person record, masked."""
    if principal.person_id is None:
        raise NotFound("Your account is not linked to an ID number.")
    person = people_service.get(session=session, person_id=principal.person_id)
    if person is None:
        raise NotFound("No such person.")
    return PersonRead(id=str(person.id), name=person.name_masked, id_number=person.id_masked,
                      phone=person.phone_masked, status=person.status)


@router.post("/people/{person_id}/reveal", response_model=RevealRead,
             responses=errors(403, 404, 422, 429))
def reveal(person_id: uuid.UUID, data: RevealRequest, session: SessionDep, rt: RuntimeDep,
           principal: CurrentPrincipal) -> RevealRead:
    """Reveal one field in clear; needs the permission and a reason, and is audited."""
    value = flows.reveal(session=session, rt=rt, actor=principal, person_id=person_id,
                         field=data.field, reason=data.reason, purpose=data.purpose)
    return RevealRead(field=data.field, value=value)


@router.get("/me/access-log", response_model=Page[AccessEntry])
def access_log(session: SessionDep, principal: CurrentPrincipal,
               cursor: Annotated[str | None, Query(max_length=24)] = None
               ) -> Page[AccessEntry]:
    """List who read or changed my data: reads in clear and exports first, then the rest,
    each newest first; a page at a time (`next` is the next page's cursor)."""
    if principal.person_id is None:
        return Page(items=[], next=None)
    page = access_log_service.access_page(session=session, person_id=principal.person_id,
                                          cursor=cursor)
    return Page(items=[AccessEntry(at=e.at, actor=e.actor_name, action=e.action,
                                   reason=e.reason) for e in page.entries],
                next=page.next_cursor)
