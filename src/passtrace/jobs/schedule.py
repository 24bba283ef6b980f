"""Every scheduled job, in one list: to add one (risk rules, retention ...), write
`<domain>/jobs.py` with a function `(rt) -> summary` that opens its own transaction,
and add a Job line here with the setting that says how often (docs/jobs.md)."""

from __future__ import annotations

from passtrace.analytics import jobs as analytics_jobs
from passtrace.audit import jobs as audit_jobs
from passtrace.communities.compounds import jobs as compound_jobs
from passtrace.communities.outings import jobs as outing_jobs
from passtrace.dashboard import jobs as dashboard_jobs
from passtrace.health import jobs as health_jobs
from passtrace.jobs import upkeep
from passtrace.jobs.runner import Job
from passtrace.people import jobs as people_jobs
from passtrace.registrations import jobs as registration_jobs
from passtrace.reports import jobs as report_jobs
from passtrace.retention import jobs as retention_jobs
from passtrace.tracing import jobs as tracing_jobs
from passtrace.warnings import jobs as warning_jobs


def scheduled_jobs() -> list[Job]:
    """The jobs the runner runs, in order on each tick."""
    return [
        Job("reports.remind", lambda rt: rt.settings.reminders_seconds, report_jobs.remind),
        Job("communities.overdue", lambda rt: rt.settings.overdue_sweep_seconds,
            outing_jobs.notice_overdue),
        Job("communities.renew-household-passes",
            lambda rt: rt.settings.household_renewal_seconds,
            compound_jobs.renew_household_passes),
        Job("registrations.partitions-ahead",
            lambda rt: rt.settings.registration_partitions_seconds,
            registration_jobs.create_partitions_ahead),
        Job("registrations.analyze-partitions",
            lambda rt: rt.settings.registration_analyze_seconds,
            registration_jobs.analyze_partitions),
        Job("retention.delete-expired", lambda rt: rt.settings.retention_seconds,
            retention_jobs.delete_expired),
        Job("tracing.verify-reports", lambda rt: rt.settings.verify_seconds,
            tracing_jobs.verify_recent),
        Job("warnings.run-rules", lambda rt: rt.settings.warnings_seconds,
            warning_jobs.run_rules),
        Job("warnings.escalate", lambda rt: rt.settings.alert_escalate_seconds,
            warning_jobs.escalate),
        Job("health.sweep-expired", lambda rt: rt.settings.health_sweep_seconds,
            health_jobs.sweep_expired),
        Job("health.escalate-appeals", lambda rt: rt.settings.health_sweep_seconds,
            health_jobs.escalate_appeals),
        Job("health.relay-status-notices", lambda rt: rt.settings.health_sweep_seconds,
            health_jobs.relay_status_notices),
        Job("dashboard.fold-hours", lambda rt: rt.settings.dashboard_fold_seconds,
            dashboard_jobs.fold_hours),
        Job("people.fill-phone-hashes", lambda rt: rt.settings.phone_backfill_seconds,
            people_jobs.fill_phone_hashes),
        Job("analytics.run-requested", lambda rt: rt.settings.analytics_seconds,
            analytics_jobs.run_queued),
        Job("jobs.table-upkeep", lambda rt: rt.settings.table_upkeep_seconds, upkeep.run),
        Job("audit.anchor-lanes", lambda rt: rt.settings.audit_anchor_seconds,
            audit_jobs.anchor_lanes),
    ]
