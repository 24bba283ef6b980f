"""Oversight: supervisors review the audit log and unusual access to personal data.

Above every other domain (it reads the audit log and the role bindings, sites and
enterprises that place an actor in an area); nothing imports it.
"""
