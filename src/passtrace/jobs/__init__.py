"""The one job runner: outbox delivery and every scheduled job (docs/jobs.md)."""
