"""Retention (PIPL: keep personal data no longer than needed): scheduled deletion with
chained receipts, and account deletion on request (docs/security.md, "Retention")."""
