"""Site kinds plug their own rules into the checkpoint decision.

registrations decides at every site. A kind of site with rules of its own (a
compound's gate: who lives there, visitor passes, outing limits) registers a
provider here, and the registration service asks it for facts before deciding
and tells it what was let through afterwards. So registrations never imports the
domain that owns those rules: communities depends on registrations, not the
other way round.

Providers are registered once per process by `passtrace.wiring.wire()`, which
every entry point calls (the app factory, the CLI, the test and benchmark
set-ups). A compound's gate met with no provider registered is an error, never a
silent "allow": a process that forgot to wire would let anyone through.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any, Protocol

from sqlalchemy.orm import Session

from passtrace.rules.decide import GateFacts
from passtrace.sites.models import Site


class KindCheck(Protocol):
    """What a provider found out for one check, kept until the registration is stored."""

    @property
    def facts(self) -> GateFacts:
        """The facts the decision applies the kind's rules to."""
        ...

    def inside(self) -> bool | None:
        """Whether the person counts as inside, as this kind counts it.

        None: the kind has no opinion and registrations counts by the site's own
        in/out registrations.
        """
        ...


class SiteKindProvider(Protocol):
    """The hooks a site kind offers the registration service."""

    def applies(self, site: Site) -> bool:
        """Tell whether this provider's rules govern a site."""
        ...

    def gather(self, session: Session, site: Site, *, person_id: uuid.UUID | None,
               pass_row: Any, now: datetime, direction: str) -> KindCheck | None:
        """Collect the facts for one online check (may lock rows until commit)."""
        ...

    def usual_direction(self, session: Session, site: Site, *, person_id: uuid.UUID | None,
                        pass_row: Any) -> str | None:
        """The way this person usually goes now ("in" or "out"), None when unknown."""
        ...

    def record(self, session: Session, check: Any, *, registration_id: uuid.UUID,
               direction: str, decision: str, occurred_at: datetime) -> None:
        """Apply what one online check decided (same transaction)."""
        ...

    def notes(self, check: Any, *, direction: str, allowed: bool,
              now: datetime) -> list[str]:
        """Extra lines for the result screen."""
        ...

    def record_offline(self, session: Session, site: Site, rows: list[dict[str, Any]]) -> int:
        """Apply registrations a device decided offline, or a guard's override.

        Takes the kind's row locks and then the audit chain's lock (the gate's order)
        before writing, so call it before the caller's own audit entry.
        """
        ...

    def offline_facts(self, session: Session, site: Site, *, person_hashes: set[str],
                      pass_ids: set[uuid.UUID]) -> tuple[set[str], set[uuid.UUID]]:
        """For an uploaded batch: the hashes of residents, and the passes that are visits.

        The server judges offline rows again with who may come in; a kind's limits that
        depend on its live state (outings) are not judged again.
        """
        ...


class SiteKindsNotWired(RuntimeError):
    """A site needs a kind's rules but no provider is registered: call wiring.wire()."""


_providers: dict[str, SiteKindProvider] = {}


def register_site_kind(name: str, provider: SiteKindProvider) -> None:
    """Register (or replace, so wiring twice is harmless) the provider called `name`."""
    _providers[name] = provider


def registered() -> dict[str, SiteKindProvider]:
    """The providers registered in this process, by name (for tests and docs)."""
    return dict(_providers)


def provider_for(site: Site) -> SiteKindProvider | None:
    """The provider whose rules govern a site; None for a site with no rules of its kind."""
    for provider in _providers.values():
        if provider.applies(site):
            return provider
    if site.community_code:
        raise SiteKindsNotWired(
            f"site {site.code} is a compound's gate but no site-kind provider is registered; "
            "call passtrace.wiring.wire() at start-up")
    return None
