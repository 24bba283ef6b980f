"""Turn pass rows into what people read: labels, area names, masked holder."""

from __future__ import annotations

from functools import lru_cache

from sqlalchemy import select
from sqlalchemy.orm import Session

from passtrace.areas import service as area_service
from passtrace.areas.models import Area
from passtrace.codec.qr import qr_png, qr_svg
from passtrace.core.i18n import get_locale, lazy_gettext
from passtrace.core.pii import PiiVault
from passtrace.passes.models import Pass
from passtrace.passes.schemas import AreaRef, HolderRead, PassRead
from passtrace.passes.service import effective_status, pass_text

PURPOSE_LABELS = {
    "commute": lazy_gettext("Commute to work"),
    "medical": lazy_gettext("Medical visit"),
    "supply": lazy_gettext("Supply delivery"),
    "emergency": lazy_gettext("Emergency"),
    "other": lazy_gettext("Other"),
}
# Passes the system issues itself (a household's, a visitor's): never applied for.
ISSUED_PURPOSE_LABELS = {
    "household": lazy_gettext("Household pass"),
    "visitor": lazy_gettext("Visitor pass"),
}
STATUS_LABELS = {
    "pending": lazy_gettext("Waiting for approval"),
    "approved": lazy_gettext("Approved"),
    "rejected": lazy_gettext("Rejected"),
    "revoked": lazy_gettext("Revoked"),
    "expired": lazy_gettext("Expired"),
}


def to_read(session: Session, p: Pass, *, with_token: bool,
            names: dict[str, str] | None = None, vault: PiiVault | None = None) -> PassRead:
    """Describe a pass in the current language.

    `with_token` (the holder only) decrypts the pass text with `vault`.
    """
    status = effective_status(p)
    token = None
    if with_token and status == "approved":
        if vault is None:
            raise TypeError("the pass text is encrypted: pass the vault with with_token")
        token = pass_text(vault=vault, p=p)
    if names is None:
        names = area_service.names(session=session, codes=p.areas, locale=get_locale())
    return PassRead(
        id=p.id, status=status, status_label=str(STATUS_LABELS[status]),
        purpose=p.purpose, purpose_label=purpose_label(p.purpose),
        reason=p.reason, valid_from=p.valid_from, valid_until=p.valid_until,
        areas=[AreaRef(code=c, name=names.get(c, c)) for c in p.areas], sites=p.sites,
        plate=p.plate, companions=p.companions,
        holder=HolderRead(person_id=p.person_id, name=p.person.name_masked,
                          id_number=p.person.id_masked),
        created_at=p.created_at, decided_at=p.decided_at, decision_reason=p.decision_reason,
        revoked_at=p.revoked_at, revoke_reason=p.revoke_reason,
        revoke_reason_code=p.revoke_reason_code, kid=p.kid,
        token=token,
    )


def to_read_many(session: Session, passes: list[Pass], *, with_token: bool,
                 vault: PiiVault | None = None) -> list[PassRead]:
    """Describe a page of passes with one area-name lookup for all of them."""
    codes = sorted({c for p in passes for c in p.areas})
    names = area_service.names(session=session, codes=codes, locale=get_locale())
    return [to_read(session, p, with_token=with_token, names=names, vault=vault)
            for p in passes]


def purpose_label(purpose: str) -> str:
    """Translate a pass purpose, the issued kinds included."""
    label = PURPOSE_LABELS.get(purpose) or ISSUED_PURPOSE_LABELS.get(purpose)
    return str(label) if label is not None else purpose


def purpose_choices(*, include_issued: bool = False) -> list[tuple[str, str]]:
    """List purposes with translated labels (the issued ones too for officials' filters)."""
    labels = {**PURPOSE_LABELS, **ISSUED_PURPOSE_LABELS} if include_issued else PURPOSE_LABELS
    return [(k, str(v)) for k, v in labels.items()]


# segno renders a PNG in ~20 ms (pure Python): cache by token, tokens never change.
@lru_cache(maxsize=1024)
def cached_png(token: str, scale: int = 8) -> bytes:
    """Return the QR PNG of a pass token."""
    return qr_png(token, scale=scale)


@lru_cache(maxsize=256)
def cached_svg(token: str) -> bytes:
    """Return the QR SVG of a pass token."""
    return qr_svg(token)


def area_choices(session: Session) -> list[tuple[str, str]]:
    """Districts and streets a pass may open, streets indented, in the reader's language."""
    rows = session.scalars(select(Area).where(Area.level.in_(("district", "street")),
                                              Area.code.startswith("52")).order_by(Area.code))
    zh = get_locale() == "zh_CN"
    return [(a.code, ("\u3000" if a.level == "street" else "") + (a.name_zh if zh else a.name_en))
            for a in rows]
