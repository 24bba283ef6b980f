"""Passes API: apply, decide, revoke, QR images, and the checkpoint lists."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Query, Response

from passtrace.core.errors import NotFound
from passtrace.passes import authz, present, review
from passtrace.passes import service as pass_service
from passtrace.passes import trust_root as root_keys
from passtrace.passes.models import PURPOSES
from passtrace.passes.schemas import (
    BulkApprove,
    BulkApproveResult,
    BulkRefusal,
    Decision,
    PassCreate,
    PassPage,
    PassRead,
    RevocationList,
)
from passtrace.web.deps import CurrentPrincipal, RuntimeDep, SessionDep, require
from passtrace.web.openapi import files
from passtrace.web.paging import DEFAULT_LIMIT, Cursor, Limit

router = APIRouter(prefix="/passes", tags=["passes"])
PURPOSE_PATTERN = "^(" + "|".join((*PURPOSES, *review.ISSUED_PURPOSES)) + ")$"


@router.post("", response_model=PassRead, status_code=201,
             dependencies=[require("pass.apply")])
def apply(data: PassCreate, session: SessionDep, rt: RuntimeDep,
          principal: CurrentPrincipal) -> PassRead:
    """Apply for a pass for yourself."""
    p = pass_service.apply(session=session, rt=rt, actor=principal, data=data)
    return present.to_read(session, p, with_token=False)


@router.get("/mine", response_model=PassPage)
def mine(session: SessionDep, rt: RuntimeDep, principal: CurrentPrincipal,
         cursor: Cursor = None, limit: Limit = DEFAULT_LIMIT) -> PassPage:
    """List your own passes, newest first."""
    rows, nxt = pass_service.list_mine(session=session, actor=principal, cursor=cursor,
                                       limit=limit)
    return PassPage(items=present.to_read_many(session, rows, with_token=True,
                                               vault=rt.vault), next=nxt)


@router.get("/review", response_model=PassPage, dependencies=[require("pass.view_scope")])
def review_queue(
    session: SessionDep, principal: CurrentPrincipal,
    status: Annotated[str | None, Query(pattern="^(pending|approved|rejected|revoked)$")]
    = "pending",
    purpose: Annotated[str | None, Query(pattern=PURPOSE_PATTERN)] = None,
    q: Annotated[str, Query(max_length=review.QUERY_MAX, description=(
        "Last 4 of the ID number, (part of) the plate, or the pass id or its first "
        "8+ hex digits."))] = "",
    include_issued: Annotated[bool, Query(description=(
        "Include the household and visitor passes compounds issue themselves."))] = False,
    cursor: Cursor = None,
    limit: Limit = DEFAULT_LIMIT,
) -> PassPage:
    """List passes in your jurisdiction (pending ones by default), searched and filtered."""
    f = review.ListFilter(status=status, purpose=purpose, q=review.normalize_query(q),
                          include_issued=include_issued)
    rows, nxt = review.list_passes(session=session, actor=principal, f=f, cursor=cursor,
                                   limit=limit)
    return PassPage(items=present.to_read_many(session, rows, with_token=False),
                    next=nxt)


@router.post("/approve-many", response_model=BulkApproveResult,
             dependencies=[require("pass.view_scope")])
def approve_many(data: BulkApprove, session: SessionDep, rt: RuntimeDep,
                 principal: CurrentPrincipal) -> BulkApproveResult:
    """Approve several pending passes with one reason; the ones not approved say why."""
    result = review.approve_many(session=session, rt=rt, actor=principal,
                                 pass_ids=data.pass_ids, reason=data.reason)
    return BulkApproveResult(approved=result.approved, refused=[
        BulkRefusal(id=pid, code=exc.code, message=exc.translated())
        for pid, exc in result.refused])


@router.get("/trust-list", tags=["checkpoint"])
def trust_list(session: SessionDep, rt: RuntimeDep) -> dict[str, object]:
    """Publish the keys that sign passes and revocation lists, as the root key last signed
    them (public, cacheable); 503 until a list has been signed."""
    return dict(root_keys.published(session=session, vault=rt.vault,
                                     settings=rt.settings).listing)


@router.get("/trust-root", tags=["checkpoint"])
def trust_root(session: SessionDep, rt: RuntimeDep) -> dict[str, str]:
    """Publish the root public key checkpoints pin to check the trust list."""
    return root_keys.root_public(root_keys.published(session=session, vault=rt.vault,
                                                       settings=rt.settings))


@router.get("/revocations", response_model=RevocationList, tags=["checkpoint"])
def revocations(session: SessionDep, rt: RuntimeDep,
                since: Annotated[int, Query(ge=0, le=2**62)] = 0) -> dict[str, object]:
    """List revocations after a version (signed too): checkpoints fetch only what is new."""
    return pass_service.signed_revocations(session=session, rt=rt, since=since)


@router.get("/{pass_id}", response_model=PassRead)
def read(pass_id: uuid.UUID, session: SessionDep, rt: RuntimeDep,
         principal: CurrentPrincipal) -> PassRead:
    """Show one pass (holder or a reviewer in jurisdiction)."""
    p = pass_service.read(session=session, actor=principal, pass_id=pass_id)
    # The pass text is a bearer credential: its holder's only.
    return present.to_read(session, p, with_token=authz.is_holder(principal, p),
                           vault=rt.vault)


@router.post("/{pass_id}/approve", response_model=PassRead)
def approve(pass_id: uuid.UUID, data: Decision, session: SessionDep, rt: RuntimeDep,
            principal: CurrentPrincipal) -> PassRead:
    """Approve and sign a pending pass (the pass text goes to its holder, not here)."""
    p = pass_service.approve(session=session, rt=rt, actor=principal, pass_id=pass_id,
                             reason=data.reason)
    return present.to_read(session, p, with_token=False)


@router.post("/{pass_id}/reject", response_model=PassRead)
def reject(pass_id: uuid.UUID, data: Decision, session: SessionDep, rt: RuntimeDep,
           principal: CurrentPrincipal) -> PassRead:
    """Reject a pending pass with a reason."""
    p = pass_service.reject(session=session, actor=principal, pass_id=pass_id,
                            reason=data.reason, settings=rt.settings)
    return present.to_read(session, p, with_token=False)


@router.post("/{pass_id}/revoke", response_model=PassRead)
def revoke(pass_id: uuid.UUID, data: Decision, session: SessionDep, rt: RuntimeDep,
           principal: CurrentPrincipal) -> PassRead:
    """Revoke a pass (officials: a reason_code and a reason; the holder is told and may
    appeal) or withdraw it (its holder)."""
    p = pass_service.revoke(session=session, actor=principal, pass_id=pass_id,
                            reason=data.reason, reason_code=data.reason_code,
                            settings=rt.settings)
    return present.to_read(session, p, with_token=False)


def _token_for_image(session: SessionDep, rt: RuntimeDep, principal: CurrentPrincipal,
                     pass_id: uuid.UUID) -> str:
    p = pass_service.read(session=session, actor=principal, pass_id=pass_id, via="qr")
    # The QR is the pass text, a bearer credential: a reviewer sees the pass, not its QR.
    if (pass_service.effective_status(p) != "approved" or p.token_enc is None
            or not authz.is_holder(principal, p)):
        raise NotFound("The QR code appears once the pass is approved and valid.")
    return pass_service.pass_text(vault=rt.vault, p=p) or ""


@router.get("/{pass_id}/qr.png", response_class=Response,
            responses=files("The pass as a QR code.", "image/png"))
def qr_png(pass_id: uuid.UUID, session: SessionDep, rt: RuntimeDep,
           principal: CurrentPrincipal) -> Response:
    """Return the pass QR as PNG."""
    token = _token_for_image(session, rt, principal, pass_id)
    return Response(present.cached_png(token), media_type="image/png",
                    headers={"Cache-Control": "private, max-age=300"})


@router.get("/{pass_id}/qr.svg", response_class=Response,
            responses=files("The pass as a QR code.", "image/svg+xml"))
def qr_svg(pass_id: uuid.UUID, session: SessionDep, rt: RuntimeDep,
           principal: CurrentPrincipal) -> Response:
    """Return the pass QR as SVG (sharp on paper)."""
    token = _token_for_image(session, rt, principal, pass_id)
    return Response(present.cached_svg(token), media_type="image/svg+xml",
                    headers={"Cache-Control": "private, max-age=300"})
