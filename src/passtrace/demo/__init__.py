"""The demo: real Guiyang divisions, a user for every role, and a city lived in, in Chinese.

`seed` loads it all into an empty database, one module per domain:
`accounts` (logins and residents), `passes` (sample applications), `sites`
(checkpoints), `registrations` (a morning at a checkpoint), `enterprises`
(companies, staff, resumption), `communities` and `community_life` (compounds,
their households and five days at their gates), `reports` (two weeks of daily
reports), `tracing` (cases traced by the real services: contacts, tasks, a chain,
verification findings), `supplies` (depots, stock, two weeks of issues, open
requests, a shortage). Everything a user reads is Simplified Chinese; logins and codes are ASCII.
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from passtrace.accounts import service as account_service
from passtrace.areas import service as area_service
from passtrace.core.runtime import Runtime
from passtrace.demo import communities as community_demo
from passtrace.demo import enterprises as enterprise_demo
from passtrace.demo import passes as pass_demo
from passtrace.demo import registrations as registration_demo
from passtrace.demo import reports as report_demo
from passtrace.demo import sites as site_demo
from passtrace.demo import supplies as supplies_demo
from passtrace.demo import tracing as tracing_demo
from passtrace.demo.accounts import (
    DEMO_PASSWORD,
    DEMO_RESIDENTS,
    DEMO_USERS,
    DemoUser,
    demo_id_number,
    login_table,
    seed_residents,
    seed_users,
)
from passtrace.passes import keyring
from passtrace.registrations import stays

__all__ = ["DEMO_PASSWORD", "DEMO_RESIDENTS", "DEMO_USERS", "DemoUser", "demo_id_number",
           "login_table", "seed"]


def seed(*, session: Session, rt: Runtime) -> dict[str, object]:
    """Load areas, keys, users, residents, passes and the lived-in city into an empty database."""
    area_service.load_bundled(session=session)
    keyring.ensure(session=session, vault=rt.vault)
    users = seed_users(session=session, rt=rt)
    residents = seed_residents(session=session, rt=rt)
    admin = account_service.principal_for(users["admin"])
    pass_demo.seed(session=session, rt=rt, residents=residents,
                   official=account_service.principal_for(users["official_nm"]))
    sites = site_demo.seed(session=session, official=admin)
    registration_demo.seed(session=session, site=sites["CP-NM-01"],
                           operator_user_id=users["checkpoint"].id)
    enterprise_demo.seed(session=session, rt=rt, users=users,
                         resident_id_number=demo_id_number("520102", "19900307", "013"))
    community_demo.seed(session=session, rt=rt, admin=admin)
    report_demo.seed(session, rt)
    # The seeding above inserts registrations in bulk, past write-time upkeep.
    stays.rebuild(session)
    tracing_demo.seed(session=session, rt=rt,
                      official=account_service.principal_for(users["official_nm"]),
                      city_official=account_service.principal_for(users["official_gy"]))
    supplies_demo.seed(session=session, officer=account_service.principal_for(users["supplies"]),
                       requester=account_service.principal_for(users["depot_cp"]))
    return {"users": [du.username for du in DEMO_USERS] + [r[0] for r in DEMO_RESIDENTS]}
