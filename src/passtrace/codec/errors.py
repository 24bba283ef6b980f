"""The one exception a verifier raises, with a machine-readable reason."""

from __future__ import annotations

# One code per way a pass can fail; checkpoint UIs translate these.
REASONS: frozenset[str] = frozenset(
    {
        "bad_prefix",
        "bad_base45",
        "bad_compression",
        "bad_cose",
        "bad_claims",
        "unsupported_alg",
        "unknown_kid",
        "bad_signature",
        "expired",
        "not_yet_valid",
        "revoked",
        "key_retired",
    }
)


class PassRejected(Exception):
    """A pass (or signed list) failed a check; `reason` says which."""

    def __init__(self, reason: str, detail: str = "") -> None:
        if reason not in REASONS:
            raise ValueError(f"unknown rejection reason {reason!r}")
        super().__init__(f"{reason}: {detail}" if detail else reason)
        self.reason = reason
        self.detail = detail
