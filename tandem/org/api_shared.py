"""What every API router shares: the error shape, id, time and text types, keyset pagination,
and who is asking.

It lives apart from ``tandem.site.api`` (which imports every router) so that the routers can
import it without an import cycle.
"""

from __future__ import annotations

from contextvars import ContextVar
from datetime import UTC, datetime
from typing import Annotated, Any, TypeVar

import ninja
from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.db.models import Model, QuerySet
from django.http import HttpRequest
from ninja import Field, P, PathEx
from ninja.schema import DjangoGetter
from pydantic import (
    AfterValidator,
    ConfigDict,
    ModelWrapValidatorHandler,
    StringConstraints,
    ValidationInfo,
    model_validator,
)

from tandem.org.models import Person, Unit
from tandem.org.queries import person_of
from tandem.refusal import Forbidden


class Schema(ninja.Schema):
    """Every API schema's base: django-ninja's, without validating twice what a view built.

    Ninja wraps whatever it validates in a ``DjangoGetter`` (for ORM objects and resolvers),
    and re-validates a view's answer on the way out. Views here build their answers from
    schema instances (``RequestOut.of(sr)``), already validated when made: going through the
    getter again for every nested field of every item was a quarter of a list's time. An
    instance passes as it is, a dict is validated directly (no schema has resolvers), and
    anything else (an ORM object) goes through the getter as before.
    """

    @model_validator(mode="wrap")
    @classmethod
    def _run_root_validator(
        cls, values: Any, handler: ModelWrapValidatorHandler[Any], info: ValidationInfo
    ) -> Any:
        if isinstance(values, cls):
            return values
        if isinstance(values, dict):
            return handler(values)
        return handler(DjangoGetter(values, cls, info.context))


# The largest id a 64-bit primary key holds: a bigger number in a path, query or body would
# overflow the database driver (a 500) instead of simply matching nothing.
MAX_ID = 2**63 - 1
DEFAULT_LIMIT = 50
MAX_LIMIT = 200

Id = Annotated[int, Field(ge=1, le=MAX_ID)]
Slug = Annotated[str, StringConstraints(pattern=r"^[-a-zA-Z0-9_]{1,80}$")]


def _utc(value: datetime) -> datetime:
    return value.astimezone(UTC)


# Every time in the API is ISO 8601 in UTC (stored times may carry a unit's zone).
UtcTime = Annotated[datetime, AfterValidator(_utc)]


def _text(limit: int, *, required: bool = True) -> Any:
    return StringConstraints(
        strip_whitespace=True, min_length=1 if required else 0, max_length=limit
    )


# Stripped strings with a limit; the required ones refuse blank text.
Text80 = Annotated[str, _text(80)]
Text200 = Annotated[str, _text(200)]
OptionalText200 = Annotated[str, _text(200, required=False)]
LongText = Annotated[str, _text(settings.TANDEM_MAX_TEXT_LENGTH)]
OptionalLongText = Annotated[str, _text(settings.TANDEM_MAX_TEXT_LENGTH, required=False)]

# Whether the answer being written is for a client organisation's person: then no id from a
# sequence every organisation shares goes in it (docs/isolation.md, "References"). The API's
# authentication sets it on every call (tandem.site.api.within_reach).
_SHARED_IDS_HIDDEN: ContextVar[bool] = ContextVar("shared_ids_hidden", default=False)


def hide_shared_ids(hidden: bool) -> None:
    _SHARED_IDS_HIDDEN.set(hidden)


def shared_ids_hidden() -> bool:
    return _SHARED_IDS_HIDDEN.get()


def shared_id(pk: int | None) -> int | None:
    """``pk`` in an answer, or None when the answer is a client's."""
    return None if _SHARED_IDS_HIDDEN.get() else pk


#: What an answer says of an id it leaves out for clients.
HIDDEN_ID = "Null for a client organisation's people (ids come from a sequence every client shares)."

# An id in a URL path, e.g. /api/requests/{request_id}.
PathId = PathEx[int, P(ge=1, le=MAX_ID)]


class InSchema(Schema):
    """A request body: unknown fields are refused (422), so that a typo is never ignored."""

    model_config = ConfigDict(extra="forbid")


class ErrorOut(Schema):
    """Every refusal: what to fix in ``detail``, and per-field messages in ``errors``."""

    detail: str = Field(
        ..., examples=["Some fields are missing or wrong (intake.hours): correct them."]
    )
    errors: dict[str, list[str]] = Field(
        default_factory=dict, examples=[{"intake.hours": ["Enter a number."]}]
    )


ERROR_DESCRIPTIONS = {
    400: "The body is not valid JSON.",
    401: "No credentials, or an unknown, expired or revoked token.",
    403: "You may see it but not do this (or the CSRF check of a session failed).",
    404: "It does not exist, or you may not know that it exists.",
    409: "It is not in a state where this can happen.",
    413: "The body is too large.",
    422: "A field is missing, unknown, of the wrong type or too long.",
}


def errors(*codes: int) -> dict[int, type[ErrorOut]]:
    """Response declarations for an operation's refusals (401 always applies)."""
    return {code: ErrorOut for code in sorted({401, *codes})}


# --- references to other objects, as they appear inside every output -------------------------


class UnitRef(Schema):
    id: int
    slug: str
    name: str

    @classmethod
    def of(cls, unit: Unit) -> UnitRef:
        return cls(id=unit.pk, slug=unit.slug, name=unit.name)


class PersonRef(Schema):
    id: int
    name: str

    @classmethod
    def of(cls, person: Person) -> PersonRef:
        return cls(id=person.pk, name=person.display_name)

    @classmethod
    def maybe(cls, person: Person | None) -> PersonRef | None:
        return None if person is None else cls.of(person)


class ServiceRef(Schema):
    id: int
    slug: str
    name: str


# --- keyset pagination -----------------------------------------------------------------------


class PageQuery(Schema):
    limit: int = Field(DEFAULT_LIMIT, ge=1, le=MAX_LIMIT, description="Items per page (1 to 200).")
    after: int | None = Field(
        None,
        ge=0,
        le=MAX_ID,
        description="The `next_after` of the previous page; leave it out for the first page.",
    )


M = TypeVar("M", bound=Model)


def keyset_page(
    qs: QuerySet[M],
    page: PageQuery,
    *,
    newest_first: bool = True,
    key: str = "id",
    related: tuple[str, ...] = (),
) -> tuple[list[M], int | None]:
    """One page of ``qs`` ordered by ``key`` alone, and the cursor of the next page (or None).

    ``WHERE key < after ORDER BY key DESC LIMIT n+1`` walks an index from where the last page
    stopped: no OFFSET and no COUNT, so page 10,000 is as fast as page 1 at a million rows.
    The extra row only tells whether there is a next page.

    With ``related``, the page's keys are found first without those joins, then the rows are
    loaded with them by primary key. Joined to a handful of small tables (units, services,
    people), SQLite's planner otherwise starts from the small tables and sorts the whole big
    one: seconds at a million rows instead of milliseconds.
    """
    if page.after is not None:
        qs = qs.filter(**{f"{key}__lt" if newest_first else f"{key}__gt": page.after})
    ordered = qs.order_by(f"-{key}" if newest_first else key)
    if related:
        ids = list(ordered.values_list("pk", flat=True)[: page.limit + 1])
        # order_by(): the page's order is the ids'; an ORDER BY here would only cost Django a
        # hash of every selected column (tandem.rows).
        by_id = qs.model._default_manager.select_related(*related).order_by().in_bulk(ids)
        rows = [by_id[pk] for pk in ids if pk in by_id]
    else:
        rows = list(ordered[: page.limit + 1])
    if len(rows) <= page.limit:
        return rows, None
    rows = rows[: page.limit]
    return rows, getattr(rows[-1], key)


# --- who is asking -----------------------------------------------------------------------------


def auth_user(request: HttpRequest) -> AbstractBaseUser:
    """The user the request authenticated as (ninja sets ``request.auth``)."""
    return request.auth  # type: ignore[attr-defined]


def actor(request: HttpRequest) -> Person:
    """The staff profile of the authenticated user; an account without one can do nothing."""
    person = person_of(getattr(request, "auth", None))
    if person is None:
        raise Forbidden(
            "Your account has no staff profile (unit and role); "
            "ask an administrator to add you to a unit."
        )
    return person
