"""Administrative divisions: loading, lookup and containment."""

from __future__ import annotations

import csv
from pathlib import Path

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from passtrace.areas.models import Area
from passtrace.core.areacodes import contains, significant_prefix  # noqa: F401
from passtrace.core.errors import NotFound, ValidationFailed

DATA_FILE = Path(__file__).resolve().parent / "data" / "divisions.csv"


def load_bundled(*, session: Session) -> int:
    """Insert the bundled division table if it is not there yet; return rows added."""
    existing = set(session.scalars(select(Area.code)))
    added = 0
    with DATA_FILE.open(encoding="utf-8") as fh:
        for row in csv.DictReader(fh):
            if row["code"] in existing:
                continue
            session.add(Area(code=row["code"], name_zh=row["name_zh"], name_en=row["name_en"],
                             level=row["level"], parent_code=row["parent_code"] or None))
            added += 1
    session.flush()
    return added


def get(*, session: Session, code: str) -> Area | None:
    """Get an area by code."""
    return session.get(Area, code)


def require(*, session: Session, code: str) -> Area:
    """Get an area by code or fail with a translated error."""
    area = get(session=session, code=code)
    if area is None:
        raise NotFound("Unknown area code %(area)s.", area=code)
    return area


def children(*, session: Session, parent_code: str | None) -> list[Area]:
    """List the direct children of an area (None: the provinces)."""
    stmt = select(Area).where(
        Area.parent_code.is_(None) if parent_code is None else Area.parent_code == parent_code
    )
    return list(session.scalars(stmt.order_by(Area.code)))


def validate_codes(*, session: Session, codes: list[str], field: str = "areas") -> list[str]:
    """Check every code exists; return them de-duplicated in order."""
    unique = list(dict.fromkeys(c.strip() for c in codes if c.strip()))
    if not unique:
        return []
    found = set(session.scalars(select(Area.code).where(Area.code.in_(unique))))
    missing = [c for c in unique if c not in found]
    if missing:
        raise ValidationFailed("Unknown area code %(area)s.", area=", ".join(missing),
                               fields={field: "Unknown area code %(area)s."})
    return unique


def existing(*, session: Session, codes: list[str]) -> set[str]:
    """Return which of the codes exist (for row-by-row import reports)."""
    unique = {c for c in codes if c}
    if not unique:
        return set()
    return set(session.scalars(select(Area.code).where(Area.code.in_(unique))))


def names(*, session: Session, codes: list[str], locale: str) -> dict[str, str]:
    """Map codes to display names in a locale."""
    if not codes:
        return {}
    rows = session.scalars(select(Area).where(Area.code.in_(codes)))
    return {a.code: (a.name_zh if locale == "zh_CN" else a.name_en) for a in rows}


def count(*, session: Session) -> int:
    """Count areas loaded."""
    return session.scalar(select(func.count()).select_from(Area)) or 0
