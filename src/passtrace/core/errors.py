"""Domain errors: each carries an HTTP status and a translatable message."""

from __future__ import annotations

from typing import Any

from passtrace.core.i18n import gettext


class DomainError(Exception):
    """A failure the user can understand; rendered by one handler."""

    status = 400
    code = "bad_request"

    def __init__(self, message: str, *, code: str | None = None,
                 fields: dict[str, str] | None = None, **params: Any) -> None:
        super().__init__(message)
        self.message = message  # an English msgid; translated when rendered
        self.params = params
        self.fields = fields or {}  # field name -> msgid
        if code:
            self.code = code

    def translated(self) -> str:
        """Return the message in the current locale."""
        return gettext(self.message, **self.params)

    def translated_fields(self) -> dict[str, str]:
        """Return per-field messages in the current locale."""
        return {name: gettext(msg, **self.params) for name, msg in self.fields.items()}


class ValidationFailed(DomainError):
    """Input is well-formed JSON/form data but its values are wrong."""

    status = 422
    code = "invalid"


class NotFound(DomainError):
    """The thing does not exist, or the caller may not know that it does."""

    status = 404
    code = "not_found"


class Conflict(DomainError):
    """The change clashes with what is already stored."""

    status = 409
    code = "conflict"


class InvalidState(DomainError):
    """The change is not allowed in the resource's current state."""

    status = 409
    code = "invalid_state"


class Unauthorized(DomainError):
    """No valid login."""

    status = 401
    code = "unauthorized"


class Forbidden(DomainError):
    """Logged in, but this role or scope may not do this."""

    status = 403
    code = "forbidden"


class TooLarge(DomainError):
    """A body (or upload) past its size limit; chunked bodies are caught while read."""

    status = 413
    code = "too_large"


class RateLimited(DomainError):
    """Too many attempts."""

    status = 429
    code = "rate_limited"
    retry_after: int | None = None  # seconds; sent as the Retry-After header


class Unavailable(DomainError):
    """Not ready to answer yet (something an administrator has to do first)."""

    status = 503
    code = "unavailable"
