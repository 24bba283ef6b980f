"""Division-code arithmetic: containment is a prefix test on significant digits."""

from __future__ import annotations


def significant_prefix(code: str) -> str:
    """Strip trailing zero pairs of a 6-digit code: 520100 -> 5201, 520000 -> 52."""
    if len(code) == 6:
        stripped = code
        while len(stripped) > 2 and stripped.endswith("00"):
            stripped = stripped[:-2]
        return stripped
    return code


def contains(ancestor: str, code: str) -> bool:
    """Tell whether an area lies inside (or is) another."""
    return code.startswith(significant_prefix(ancestor))


def common_prefix(codes: list[str]) -> str:
    """The longest area prefix every code lies in ("" when they share none, or none given)."""
    prefixes = [significant_prefix(c) for c in codes]
    if not prefixes:
        return ""
    first, last = min(prefixes), max(prefixes)
    n = 0
    while n < min(len(first), len(last)) and first[n] == last[n]:
        n += 1
    return first[:n]
