"""Pure policy shared by sites, registrations and communities: no database, no web.

decide.py (the checkpoint decision), reasons.py (its reason codes), outings.py (a
compound's outing rules), temperature.py (one rounding rule). Time zone and local
day come from core.clock, area-code containment from core.areacodes (core.security
needs it too). Anything here must be a pure function of its arguments and the
clock, so the checkpoint page's JavaScript mirror can be tested against it.
"""
