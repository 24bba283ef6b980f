"""Registrations: every person checked at a site, with the decision and its reasons."""
