"""Plug the domains into the hooks lower layers offer: one call, made by every entry point.

Lower layers offer hooks instead of importing upwards:
- registrations.site_kinds: a site kind with rules of its own (a compound's gate)
  registers the provider that gathers its facts and records what passed;
- registrations.fast_kinds: the compound's gate registers its PostgreSQL fast path;
- core.runtime.Runtime.principals: how the web toolkit turns a token into a principal
  (accounts owns tokens);
- people.flows: domains that grant the right to reveal a person's data (passes,
  enterprises) register their grant; oversight registers the supervisors' reveal alert;
- audit.actors: oversight describes staff as "role · office" for the people they
  acted on (no login names in a person's history);
- accounts.role_labels: oversight names the departments of role scopes on the admin
  pages (a department's scope value is an id);
- accounts.binding: the offices that register people (compounds, employers) tell
  where a person belongs (who may unlink their account) and what an unlinking undoes.
- supplies.drivers: the supply forecast's epidemic drivers (staff on duty, people in
  quarantine, contacts to test, cases in isolation) are counted by
  warnings.supply_drivers, which reads sites, tracing and cases.

`wire()` registers the site kinds and reveal grants (process-wide) and, given a Runtime, sets its
principal resolver. It is idempotent. Called by app.create_app, the CLI's entry
callback, tests/conftest.py and the benchmarks; a new entry point must call it
too: a compound's gate checked without it raises SiteKindsNotWired instead of
letting people through, and a request without a resolver fails loudly.
"""

from __future__ import annotations

from passtrace.accounts.binding import register_person_areas, register_unbind_hook
from passtrace.accounts.role_labels import register_scope_namer
from passtrace.accounts.service import Principals
from passtrace.audit.actors import register_describer
from passtrace.communities.compounds import claim_codes as community_claims
from passtrace.communities.outings import gate_fast
from passtrace.communities.outings.gate import GATE
from passtrace.core.runtime import Runtime
from passtrace.enterprises import claim_codes as enterprise_claims
from passtrace.enterprises import service as enterprise_service
from passtrace.oversight import actor_labels
from passtrace.oversight import alerts as oversight_alerts
from passtrace.passes import authz as pass_authz
from passtrace.people.flows import register_reveal_alert, register_reveal_grant
from passtrace.registrations import stays
from passtrace.registrations.fast_kinds import register_fast_kind
from passtrace.registrations.site_kinds import register_site_kind
from passtrace.supplies import drivers as supply_drivers
from passtrace.warnings import supply_drivers as supply_driver_counts


def wire(rt: Runtime | None = None) -> None:
    """Register every site kind's provider; set the runtime's principal resolver."""
    register_site_kind("community_gate", GATE)
    register_fast_kind("community_gate", gate_fast.register)
    register_reveal_grant("passes", pass_authz.reveal_allowed)
    register_reveal_grant("enterprises", enterprise_service.reveal_grant)
    register_reveal_grant("communities", community_claims.reveal_grant)
    register_reveal_alert("supervisors", oversight_alerts.notify_supervisors)
    register_person_areas("communities", community_claims.resident_areas)
    register_person_areas("enterprises", enterprise_claims.employer_areas)
    register_unbind_hook("enterprises", enterprise_claims.drop_employee_links)
    register_describer("roles", actor_labels.describe)
    register_scope_namer(actor_labels.office_names)
    supply_drivers.register_source(supply_driver_counts.count)
    if rt is not None:
        stays.configure(rt.settings)  # the stay caps: write time and rebuilds alike
    if rt is not None and rt.principals is None:
        rt.principals = Principals(
            second_factor_enforced=rt.settings.second_factor_enforced)
