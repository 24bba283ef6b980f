"""Readable names for audit actions, shown to the people the entries concern."""

from __future__ import annotations

from passtrace.core.i18n import lazy_gettext

ACTION_LABELS = {
    "person.register": lazy_gettext("Registered"),
    "person.reveal": lazy_gettext("Viewed in clear"),
    "person.reveal_alert": lazy_gettext("Alerted supervisors: many views in clear"),
    "pass.apply": lazy_gettext("Applied for a pass"),
    "pass.view": lazy_gettext("Viewed the pass"),
    "employee.view": lazy_gettext("Viewed you in a staff list"),
    "resident.view": lazy_gettext("Viewed you in a compound's household list"),
    "pass.approve": lazy_gettext("Approved a pass"),
    "pass.reject": lazy_gettext("Rejected a pass"),
    "pass.revoke": lazy_gettext("Revoked a pass"),
    "pass.issue": lazy_gettext("Issued a pass"),
    "pass.appeal": lazy_gettext("Appealed a revocation"),
    "pass.appeal.upheld": lazy_gettext("Decided an appeal: the revocation stands"),
    "pass.appeal.reversed": lazy_gettext("Decided an appeal: the revocation was reversed"),
    "pass.mass_revoke.request": lazy_gettext("Asked to revoke many passes"),
    "pass.mass_revoke.approved": lazy_gettext("Approved revoking many passes"),
    "pass.mass_revoke.rejected": lazy_gettext("Refused revoking many passes"),
    "employee.add": lazy_gettext("Added to an enterprise's staff list"),
    "employee.invite": lazy_gettext("Made a staff invite link"),
    "employee.bind": lazy_gettext("Linked the account to the staff list"),
    "employee.bind_refused": lazy_gettext("Refused a staff invite used by another account"),
    "employee.leave": lazy_gettext("Removed from the staff list"),
    "registration.create": lazy_gettext("Registered at a checkpoint or gate"),
    "registration.override": lazy_gettext("Let through by the guard despite a denial"),
    "report.file": lazy_gettext("Filed a daily report"),
    "report.view": lazy_gettext("Viewed a daily report"),
    "community.resident.add": lazy_gettext("Registered as a resident of a compound"),
    "community.resident.remove": lazy_gettext("Taken off a compound's residents"),
    "visit.create": lazy_gettext("Invited as a visitor"),
    "visit.approve": lazy_gettext("Approved a visit"),
    "visit.reject": lazy_gettext("Refused a visit"),
    "visit.cancel": lazy_gettext("Called off a visit"),
    "visit.view": lazy_gettext("Viewed a visit"),
    "delivery.create": lazy_gettext("Registered a delivery at the gate"),
    "delivery.collect": lazy_gettext("Collected a delivery"),
    "audit.export": lazy_gettext("Exported audit entries"),
    "report.export": lazy_gettext("Exported daily reports"),
    "account.bind": lazy_gettext("Linked an account to a person"),
    "account.delete": lazy_gettext("Deleted an account"),
    "account.unbind": lazy_gettext("Unlinked an account from a person"),
    "community.building": lazy_gettext("Added a building"),
    "community.create": lazy_gettext("Registered a compound"),
    "community.rules": lazy_gettext("Changed a compound's outing rules"),
    "department.create": lazy_gettext("Added a department"),
    "department.delete": lazy_gettext("Removed a department"),
    "department.rename": lazy_gettext("Renamed a department"),
    "device.enrol": lazy_gettext("Enrolled a device"),
    "enterprise.register": lazy_gettext("Registered an enterprise"),
    "key.create": lazy_gettext("Created a signing key"),
    "key.retire": lazy_gettext("Retired a signing key"),
    "key.revoke": lazy_gettext("Revoked a signing key"),
    "key.rotate": lazy_gettext("Rotated the signing key"),
    "login.failed": lazy_gettext("Failed login"),
    "person.claim_code.issue": lazy_gettext("Issued a claim code"),
    "pii.rotate": lazy_gettext("Re-encrypted personal data with a new key"),
    "registration.batch": lazy_gettext("Uploaded offline registrations"),
    "report.dashboard": lazy_gettext("Viewed the daily reports dashboard"),
    "report.remind": lazy_gettext("Sent report reminders"),
    "resumption.apply": lazy_gettext("Applied to resume work"),
    "resumption.approve": lazy_gettext("Approved a resumption of work"),
    "resumption.return": lazy_gettext("Returned a resumption application"),
    "resumption.withdraw": lazy_gettext("Withdrew a resumption application"),
    "risk.create": lazy_gettext("Set an area's risk level"),
    "risk.end": lazy_gettext("Ended an area's risk level"),
    "site.create": lazy_gettext("Registered a site"),
    "site.import": lazy_gettext("Imported sites"),
    "user.activate": lazy_gettext("Activated an account"),
    "user.create": lazy_gettext("Created an account"),
    "user.grant": lazy_gettext("Granted a role"),
    "user.login": lazy_gettext("Logged in"),
    "user.logout": lazy_gettext("Logged out"),
    "user.password_change": lazy_gettext("Changed the password"),
    "user.password_reset": lazy_gettext("Reset a password"),
    "user.revoke_role": lazy_gettext("Took back a role"),
    "user.set_locale": lazy_gettext("Changed the language"),
    "user.deactivate": lazy_gettext("Deactivated an account"),
    "community.import": lazy_gettext("Imported a compound's residents"),
    "community.overdue": lazy_gettext("Flagged residents out past their time"),
    "employee.import": lazy_gettext("Imported a staff list"),
    "pass.renew": lazy_gettext("Renewed a pass"),
    "report.amend": lazy_gettext("Corrected a daily report"),
    "report.escalate": lazy_gettext("Passed a daily report anomaly on"),
    "site.update": lazy_gettext("Changed a site"),
}

RESOURCE_LABELS = {
    "area_risk": lazy_gettext("Area risk"), "audit": lazy_gettext("Audit log"),
    "community": lazy_gettext("Compound"), "daily_report": lazy_gettext("Daily report"),
    "delivery": lazy_gettext("Delivery"), "department": lazy_gettext("Department"),
    "device": lazy_gettext("Device"), "employee": lazy_gettext("Employee"),
    "enterprise": lazy_gettext("Enterprise"), "pass": lazy_gettext("Pass"),
    "person": lazy_gettext("Person"), "pii_key": lazy_gettext("Encryption key"),
    "registration": lazy_gettext("Registration"), "resident": lazy_gettext("Resident"),
    "resumption": lazy_gettext("Resumption of work"), "retention": lazy_gettext("Retention"),
    "signing_key": lazy_gettext("Signing key"), "site": lazy_gettext("Site"),
    "user": lazy_gettext("Account"), "visit": lazy_gettext("Visit"),
}


def action_label(action: str) -> str:
    """Translate an audit action, or show its code when it has no label yet."""
    label = ACTION_LABELS.get(action)
    return str(label) if label is not None else action


def resource_label(resource_type: str) -> str:
    """Translate what kind of record an audit entry is about."""
    label = RESOURCE_LABELS.get(resource_type)
    return str(label) if label is not None else resource_type
