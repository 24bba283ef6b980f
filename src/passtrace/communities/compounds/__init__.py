"""Compounds: buildings, households, residents, their import and claim codes, household passes."""
