"""A site that stays name cannot be deleted.

stays.site_id has no foreign key (migration f4c8a2e6b9d1: its check locked the site for
every stay written); a trigger on sites refuses the deletion the key would have
refused, and lets a site nobody names go.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import delete, select
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from passtrace.core.ids import uuid7
from passtrace.registrations.models import Stay
from passtrace.sites.models import Site

AT = datetime(2026, 2, 3, 8, 30, tzinfo=UTC)


def _site(session: Session, code: str) -> Site:
    site = Site(id=uuid7(), code=code, name="守护", kind="venue", area_code="520102",
                lanes=["1"])
    session.add(site)
    session.flush()
    return site


def _refused(session: Session, statement: object) -> None:
    nested = session.begin_nested()
    with pytest.raises(DBAPIError, match="still name"):
        session.execute(statement)  # type: ignore[call-overload]
    nested.rollback()


def test_a_site_that_only_stays_name_is_kept(session, rt):
    # Its registrations are gone (retention drops them by day), its stays not yet.
    named, free = _site(session, f"GK-{uuid7().hex[-8:]}"), _site(session, f"GK-{uuid7().hex[-8:]}")
    session.add(Stay(id=uuid7(), person_hash="p" * 64, site_id=named.id, started_at=AT,
                     ended_at=AT + timedelta(hours=1), closed_by="cap"))
    session.flush()
    _refused(session, delete(Site).where(Site.id == named.id))
    session.execute(delete(Site).where(Site.id == free.id))
    session.flush()
    assert session.scalar(select(Site.id).where(Site.id == named.id)) == named.id
    assert session.scalar(select(Site.id).where(Site.id == free.id)) is None
