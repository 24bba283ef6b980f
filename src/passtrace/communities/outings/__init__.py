"""Outings: the compound gate (its rules, direction and what it records), who is out, overdue."""
