"""Count the supply forecast's drivers (supplies/drivers.py) from what the platform knows.

supplies cannot read sites, tracing and cases itself (they are its peers; the layers
contract keeps imports one way), so this module — in warnings, which already reads all
of them and turns supply shortages into alerts (shortages.py) — counts them, and
`passtrace.wiring.wire()` registers `count` as the supplies driver source.

In an area (a prefix of division codes) on a local day:
- staff on duty: active users bound as checkpoint staff to an active site there (the
  duty roster; a user at two sites counts once);
- quarantined: people (by ID hash) who are contacts there with quarantine until >= day;
- contacts to test: those of them whose tracing task is not yet "tested";
- cases in isolation: open cases there isolated on or before the day.
"""

from __future__ import annotations

from datetime import date

from sqlalchemy import and_, func, or_, select
from sqlalchemy.orm import Session

from passtrace.accounts.models import RoleBinding, User
from passtrace.cases.models import Case
from passtrace.sites.models import Site
from passtrace.supplies.drivers import Drivers
from passtrace.tracing.models import Contact, TracingTask


def count(session: Session, area_prefix: str, day: date) -> Drivers:
    """The four drivers in the area on the day (four counting queries)."""
    staff = session.scalar(
        select(func.count(func.distinct(RoleBinding.user_id)))
        .join(Site, and_(RoleBinding.scope_type == "site", Site.code == RoleBinding.scope_value))
        .join(User, User.id == RoleBinding.user_id)
        .where(RoleBinding.role == "checkpoint_staff", Site.active, User.is_active,
               Site.area_code.startswith(area_prefix)))
    # Close and secondary contacts quarantine; general ones (colleagues) are watched,
    # not quarantined (tracing/export.QUARANTINED_KINDS), so they use no kits or rooms.
    in_quarantine = and_(Contact.quarantine_until >= day,
                         Contact.kind.in_(("close", "secondary")),
                         Contact.area_code.startswith(area_prefix))
    quarantined = session.scalar(
        select(func.count(func.distinct(Contact.person_hash))).where(in_quarantine))
    to_test = session.scalar(
        select(func.count(func.distinct(Contact.person_hash)))
        .outerjoin(TracingTask, TracingTask.contact_id == Contact.id)
        .where(in_quarantine, or_(TracingTask.id.is_(None), TracingTask.status != "tested")))
    isolated = session.scalar(
        select(func.count()).select_from(Case)
        .where(Case.status == "open", Case.isolation_date.is_not(None),
               Case.isolation_date <= day, Case.area_code.startswith(area_prefix)))
    return Drivers(staff_on_duty=int(staff or 0), quarantined=int(quarantined or 0),
                   contacts_to_test=int(to_test or 0), cases_in_isolation=int(isolated or 0))
