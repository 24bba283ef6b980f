"""Temperature readings: one rounding rule for the server, the gate page and the scanners."""

from __future__ import annotations

import math


def tenths(celsius: float) -> int:
    """Return a temperature in whole tenths, halves rounded up (as JavaScript's Math.round).

    Python's round() rounds 37.25 to 37.2 (half to even) where the checkpoint
    page rounds it to 37.3: both sides use this rule so they never disagree.
    """
    return math.floor(celsius * 10 + 0.5)


def round_temperature(celsius: float) -> float:
    """Round a reading to one decimal the way the decision does."""
    return tenths(celsius) / 10
