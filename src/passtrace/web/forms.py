"""The one form layer for HTML pages: parse a form, save it, or show the page again.

A page's POST handler takes its form as a FastAPI form model
(`form: Annotated[PassForm, Form()]`). Form models carry text only, exactly as
the browser sends it: a typed field would let FastAPI refuse a bad value before
the handler runs, and the page could not come back with what the user typed.
`parse()` hands the text to the domain schema the API uses, so the rules live in
one place; `submit` turns what goes wrong into a `Failure` the page renders:

- a pydantic error: 422, one translated message per field (never pydantic's text);
- a `DomainError`: its status (422 invalid, 409 conflict, ...), its translated
  field messages and message; the attempt's SAVEPOINT is rolled back, so nothing
  it flushed stays, while what the request did before it (an audited read) does;
- a row saved at the same moment (IntegrityError): 409, rolled back the same way.

The page is always shown again with the values the user typed.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol, TypeVar

from pydantic import BaseModel, ConfigDict, ValidationError
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from passtrace.core.errors import DomainError
from passtrace.core.i18n import gettext
from passtrace.web.errors import form_field_errors

T = TypeVar("T")
T_co = TypeVar("T_co", covariant=True)


class ParsesTo(Protocol[T_co]):
    """A form model: the typed text (`model_dump`) and its parse into a domain schema."""

    def parse(self) -> T_co: ...

    def model_dump(self) -> dict[str, Any]: ...


@dataclass(frozen=True)
class Failure:
    """Why a form was not saved: what a page needs to show itself again."""

    values: dict[str, Any]
    errors: dict[str, str] = field(default_factory=dict)
    message: str | None = None
    status: int = 422
    headers: dict[str, str] = field(default_factory=dict)

    @classmethod
    def of(cls, exc: DomainError, values: dict[str, Any] | None = None) -> Failure:
        """A refusal as a page shows it: translated, with its status (and Retry-After)."""
        retry_after = getattr(exc, "retry_after", None)
        return cls(values or {}, exc.translated_fields(), exc.translated(), exc.status,
                   {"Retry-After": str(retry_after)} if retry_after else {})

    @property
    def first_error(self) -> str | None:
        """The one line a short form (login) shows: the first field message, or the message."""
        return next(iter(self.errors.values()), None) or self.message

    @property
    def errors_or_message(self) -> dict[str, str]:
        """The field messages, or the message under "form" when no field is to blame."""
        return self.errors or ({"form": self.message} if self.message else {})


Page = Callable[[Failure], Any]


def submit(session: Session, form: ParsesTo[T], save: Callable[[T], Any], page: Page, *,
           messages: dict[str, str] | None = None, count: Callable[[], object] | None = None,
           keep_refusal: bool = False) -> Any:
    """Parse the form and save it, or show the page again with the errors.

    `messages` replaces the generic message for a field where it would not say
    what to do (e.g. "Enter a date."). `count` and `keep_refusal`: see `attempt`.
    """
    values = form.model_dump()
    try:
        data = form.parse()
    except ValidationError as exc:
        return page(Failure(values, form_field_errors(exc, messages),
                            gettext("Some fields are not valid."), 422))
    return attempt(session, lambda: save(data), page, values=values, count=count,
                   keep_refusal=keep_refusal)


def attempt(session: Session, action: Callable[[], T], page: Page, *,
            values: dict[str, Any] | None = None, count: Callable[[], object] | None = None,
            keep_refusal: bool = False) -> Any:
    """Run one change in a SAVEPOINT; on a domain error or a clash, undo it and show the page.

    For buttons with at most a reason (approve, cancel, ...) as much as for forms.
    `count` runs first and commits what it counts, which stays when the change is refused
    (a sign-up attempt counter; a refusal of `count` itself, "too many attempts", is
    shown like any other). `keep_refusal` keeps what a refused change wrote on purpose
    before refusing (a failed login's count and audit entry): the page is shown and the
    request commits it.
    """
    if count is not None:
        # The counter commits its count itself (accounts.attempts.check), so an attempt
        # counts even when it is refused, the one that hits the limit included.
        try:
            count()
        except DomainError as exc:
            return page(Failure.of(exc, values))
    savepoint = session.begin_nested()
    try:
        result = action()
    except DomainError as exc:
        if keep_refusal:
            savepoint.commit()
        else:
            savepoint.rollback()
        return page(Failure.of(exc, values))
    except IntegrityError:
        # Two people saved the same thing at once (a unique key): the later one is told,
        # with their input still on the page.
        savepoint.rollback()
        return page(Failure(values or {}, {}, gettext(
            "This clashes with data saved at the same moment. Nothing was saved; please "
            "reload and try again."), 409))
    savepoint.commit()
    return result


class FormModel(BaseModel):
    """Base of every page's form model: text fields as the browser sends them; anything
    else the browser posts (the csrf_token checked by web/deps.py) is ignored."""

    model_config = ConfigDict(extra="ignore")


def text(value: str) -> str | None:
    """An optional text field: empty means not given (None), so the schema's default applies."""
    value = value.strip()
    return value or None
