"""Readable names for audit actions, shown to the people the entries concern."""

from __future__ import annotations

from passtrace.core.i18n import lazy_gettext

ACTION_LABELS = {
    "person.register": lazy_gettext("Registered"),
    "person.reveal": lazy_gettext("Viewed in clear"),
    "person.reveal_alert": lazy_gettext("Alerted supervisors: many views in clear"),
    "pass.apply": lazy_gettext("Applied for a pass"),
    "pass.view": lazy_gettext("Viewed the pass"),
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
    "contact.search": lazy_gettext("Searched a case's contacts"),
    "contact.view": lazy_gettext("Viewed a case's contact list"),
    "contact.export": lazy_gettext("Exported a case's contact list"),
}


def action_label(action: str) -> str:
    """Translate an audit action, or show its code when it has no label yet."""
    label = ACTION_LABELS.get(action)
    return str(label) if label is not None else action
