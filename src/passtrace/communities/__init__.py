"""Smart community entry/exit: compounds, households, residents, outings, visitors.

Sub-packages, lowest first (pyproject's import-linter contract keeps them one way):
`compounds` (buildings, households, residents, their import, claim codes, household
passes, the overview and household pages), `visits` (visitor invites and approvals),
`outings` (the gate's rules and what it records, who is out, overdue notices),
`deliveries` (parcels handed over at the gate).
"""
