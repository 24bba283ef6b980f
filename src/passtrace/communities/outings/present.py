"""Turn outing rows into API shapes (personal data masked)."""

from __future__ import annotations

from passtrace.communities.outings.schemas import OutRead, WeeklyRead
from passtrace.communities.outings.service import HouseholdWeek, OutNow


def out_now(row: OutNow) -> OutRead:
    """A resident out now."""
    return OutRead(outing_id=row.outing_id, person_id=row.person_id, name=row.name,
                   id_last4=row.id_last4, household=row.household, out_at=row.out_at,
                   minutes_out=row.minutes_out, due_back=row.due_back, overdue=row.overdue)


def weekly(row: HouseholdWeek) -> WeeklyRead:
    """Outings of one household this week."""
    return WeeklyRead(household_id=row.household_id, household=row.household,
                      outings=row.outings)
