"""Turn site rows into what the API and pages show."""

from __future__ import annotations

import uuid
from collections import Counter
from dataclasses import dataclass

from sqlalchemy.orm import Session

from passtrace.accounts.models import User
from passtrace.areas import service as area_service
from passtrace.core.i18n import N_, get_locale, gettext
from passtrace.sites.models import Site
from passtrace.sites.schemas import SiteRead

KIND_LABELS = {
    "road_checkpoint": N_("Road checkpoint"),
    "temporary_intersection": N_("Temporary intersection"),
    "community_gate": N_("Community gate"),
    "enterprise_gate": N_("Enterprise gate"),
    "venue": N_("Venue"),
}


def to_read_many(session: Session, sites: list[Site]) -> list[SiteRead]:
    """Present sites with their kind and area names in the current language."""
    names = area_service.names(session=session, codes=[s.area_code for s in sites],
                               locale=get_locale())
    return [SiteRead(id=s.id, code=s.code, name=s.name, kind=s.kind,
                     kind_label=gettext(KIND_LABELS.get(s.kind, s.kind)),
                     area_code=s.area_code, area_name=names.get(s.area_code, s.area_code),
                     latitude=s.latitude, longitude=s.longitude, lanes=list(s.lanes),
                     opening_hours=list(s.opening_hours),
                     fever_threshold=float(s.fever_threshold),
                     community_code=s.community_code, active=s.active) for s in sites]

# How the columns of a site sheet are named in the import report. "name" is the site's
# name: the bare "Name" msgid reads 姓名 (a person's name) in Chinese (issue 12).
IMPORT_COLUMN_LABELS = {
    "code": N_("Code"), "name": N_("Site name"), "kind": N_("Type"), "area_code": N_("Area code"),
    "latitude": N_("Latitude"), "longitude": N_("Longitude"), "lanes": N_("Lanes"),
    "opening_hours": N_("Opening hours"), "fever_threshold": N_("Fever threshold"),
}


@dataclass(frozen=True)
class StaffMember:
    """A member of a site's staff as the site page shows them: by name, never by login."""

    id: uuid.UUID
    label: str


def staff_members(users: list[User]) -> list[StaffMember]:
    """Label staff by display name; namesakes get "(no. 1)", "(no. 2)"... in the order given."""
    # A manager must tell two 张伟 apart to take the right one off duty, without seeing
    # their login names; staff_of orders namesakes by account age, so numbers are stable.
    counts = Counter(u.display_name for u in users)
    seen: Counter[str] = Counter()
    members = []
    for u in users:
        label = u.display_name
        if counts[label] > 1:
            seen[label] += 1
            label = gettext("%(name)s (no. %(n)s)", name=label, n=seen[label])
        members.append(StaffMember(u.id, label))
    return members
