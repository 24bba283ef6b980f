"""Visitors: a resident invites, the compound decides, the visitor gets a one-time pass."""
