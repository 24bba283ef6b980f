"""Tell supervisors when one user views much personal data in clear (the reveal alert).

Supervisors are the users holding audit.view over an area where the revealing user
holds a role (an area or compound scope, or a site's or enterprise's area), plus
global holders. Each gets an in-app notice, and a copy through the outbox when a
notification gateway is configured; the alert is audited under the revealing user,
so the unusual-access page of every supervisor over that user lists it.
"""

from __future__ import annotations

import uuid

from sqlalchemy import select
from sqlalchemy.orm import Session

from passtrace.accounts.models import RoleBinding, User, shown_name
from passtrace.audit import service as audit_service
from passtrace.core.areacodes import contains
from passtrace.core.clock import utcnow
from passtrace.core.i18n import N_
from passtrace.core.runtime import Runtime
from passtrace.core.security import ROLE_PERMISSIONS, Principal
from passtrace.enterprises.models import Enterprise
from passtrace.notices.service import Message, standard_notifier
from passtrace.oversight.scope import PERMISSION
from passtrace.sites.models import Site

ACTION = "person.reveal_alert"


def actor_areas(session: Session, actor: Principal) -> list[str]:
    """The division codes where the actor holds a role ([""] for a global role)."""
    codes: list[str] = []
    for b in actor.bindings:
        if b.scope_type == "global":
            codes.append("")
        elif b.scope_type in ("area", "community"):
            codes.append(b.scope_value)
        elif b.scope_type == "site":
            codes.extend(session.scalars(select(Site.area_code).where(Site.code == b.scope_value)))
        elif b.scope_type == "enterprise":
            codes.extend(session.scalars(select(Enterprise.area_code).where(
                Enterprise.credit_code == b.scope_value)))
    return codes


def supervisors_of(session: Session, actor: Principal) -> list[uuid.UUID]:
    """Active users holding audit.view globally or over one of the actor's areas."""
    roles = [r for r, perms in ROLE_PERMISSIONS.items() if "*" in perms or PERMISSION in perms]
    areas = actor_areas(session, actor)
    rows = session.execute(
        select(RoleBinding.user_id, RoleBinding.scope_type, RoleBinding.scope_value)
        .join(User, User.id == RoleBinding.user_id)
        .where(RoleBinding.role.in_(roles), User.is_active.is_(True),
               RoleBinding.scope_type.in_(("global", "area")),
               RoleBinding.user_id != actor.user_id))
    found: set[uuid.UUID] = set()
    for user_id, scope_type, value in rows:
        if scope_type == "global" or any(a and contains(value, a) for a in areas):
            found.add(user_id)
    return sorted(found)


def notify_supervisors(*, session: Session, rt: Runtime, actor: Principal, count: int) -> None:
    """Notice each supervisor (in-app, and the gateway through the outbox); audit the alert."""
    hour = utcnow().strftime("%Y%m%d%H")
    notifier = standard_notifier(session, rt.settings)
    targets = supervisors_of(session, actor)
    # Without a name of its own (shown_name) the notice says "a staff member"; its link
    # names the user by role and office.
    name = shown_name(actor.display_name, actor.username)
    text = (N_("%(actor)s viewed personal data in clear %(count)s times within an hour.")
            if name else
            N_("A staff member viewed personal data in clear %(count)s times within an hour."))
    for user_id in targets:
        notifier.send(Message(
            user_id=user_id, kind="reveal_alert", text=text,
            params={"actor": name, "count": count},
            link="/audit/unusual", dedupe_key=f"reveal-alert:{actor.user_id}:{hour}:{user_id}"))
    audit_service.record(session=session, actor=actor, action=ACTION, resource_type="user",
                         resource_id=actor.user_id, detail={"count": count,
                                                            "supervisors": len(targets)})
