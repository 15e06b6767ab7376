"""API: the units and my personal API tokens (who am I, with its unread count, is the site's:
``tandem.site.routes``)."""

from __future__ import annotations

from django.db.models import Q
from django.http import HttpRequest
from django.utils import timezone
from ninja import Field, Query, Router
from ninja.responses import Status

from tandem.org import tokens
from tandem.org.api_shared import (
    InSchema,
    PageQuery,
    PathId,
    Schema,
    Text80,
    UnitRef,
    UtcTime,
    actor,
    auth_user,
    errors,
    keyset_page,
)
from tandem.org.models import ApiToken, Person, Role, Side, Unit
from tandem.org.queries import units_visible_to, work_unit_ids
from tandem.org.tokens import MAX_EXPIRY_DAYS

router = Router()


# --- schemas -----------------------------------------------------------------------------------


class UnitOut(Schema):
    id: int
    slug: str
    name: str
    side: Side
    description: str
    time_zone: str

    @classmethod
    def of(cls, unit: Unit) -> UnitOut:
        return cls(
            id=unit.pk,
            slug=unit.slug,
            name=unit.name,
            side=Side(unit.side),
            description=unit.description,
            time_zone=unit.time_zone,
        )


class UnitPage(Schema):
    items: list[UnitOut]
    next_after: int | None = Field(
        ..., description="Pass as `after` for the next page; null on the last."
    )


class MeOut(Schema):
    id: int = Field(..., description="Your person id (use it as an assignee).")
    username: str
    name: str
    email: str
    unit: UnitOut
    role: Role
    job_title: str
    time_zone: str
    work_units: list[UnitRef] = Field(..., description="Back-office units whose queues you work.")
    email_notifications: bool
    unread_notifications: int

    @classmethod
    def of(cls, person: Person, *, unread: int) -> MeOut:
        work_units = units_visible_to(person.user).filter(pk__in=work_unit_ids(person)).order_by("id")
        return cls(
            id=person.pk,
            username=person.user.get_username(),
            name=person.display_name,
            email=person.user.email,
            unit=UnitOut.of(person.unit),
            role=Role(person.role),
            job_title=person.job_title,
            time_zone=person.time_zone,
            work_units=[UnitRef.of(u) for u in work_units],
            email_notifications=person.email_notifications,
            unread_notifications=unread,
        )


class TokenIn(InSchema):
    name: Text80 = Field(..., description="Where the token is used, e.g. 'laptop script'.")
    expires_in_days: int | None = Field(
        None,
        ge=1,
        le=MAX_EXPIRY_DAYS,
        description="Expire after this many days; leave out for never.",
    )


class TokenOut(Schema):
    id: int
    name: str
    prefix: str = Field(..., description="The first characters of the token, to recognise it.")
    created_at: UtcTime
    expires_at: UtcTime | None
    last_used_at: UtcTime | None = Field(..., description="To the minute.")
    revoked_at: UtcTime | None
    active: bool

    @classmethod
    def of(cls, token: ApiToken) -> TokenOut:
        return cls(**cls._fields(token))

    @staticmethod
    def _fields(token: ApiToken) -> dict:
        now = timezone.now()
        active = token.revoked_at is None and (token.expires_at is None or token.expires_at > now)
        return {
            "id": token.pk,
            "name": token.name,
            "prefix": token.prefix,
            "created_at": token.created_at,
            "expires_at": token.expires_at,
            "last_used_at": token.last_used_at,
            "revoked_at": token.revoked_at,
            "active": active,
        }


class IssuedTokenOut(TokenOut):
    token: str = Field(..., description="The token itself. It is shown this once and never again.")


class TokenPage(Schema):
    items: list[TokenOut]
    next_after: int | None


class TokenQuery(PageQuery):
    active: bool | None = Field(
        None, description="true: only usable tokens; false: only revoked or expired."
    )


# --- units -------------------------------------------------------------------------------------


@router.get(
    "/units", response={200: UnitPage, **errors(403, 422)}, tags=["units"], summary="List units"
)
def list_units(request: HttpRequest, page: Query[PageQuery]) -> dict:
    """Every unit, front and back office, in the order they were created (ascending id)."""
    actor(request)
    rows, next_after = keyset_page(units_visible_to(auth_user(request)), page, newest_first=False)
    return {"items": [UnitOut.of(u) for u in rows], "next_after": next_after}


# --- tokens ------------------------------------------------------------------------------------


@router.get(
    "/tokens",
    response={200: TokenPage, **errors(422)},
    tags=["tokens"],
    summary="List my API tokens",
)
def list_tokens(request: HttpRequest, query: Query[TokenQuery]) -> dict:
    """Your personal tokens, newest first. Neither the token nor its hash is ever shown again."""
    mine = ApiToken.objects.filter(user_id=auth_user(request).pk)
    if query.active is True:
        mine = ApiToken.objects.active().filter(user_id=auth_user(request).pk)
    elif query.active is False:
        mine = mine.filter(Q(revoked_at__isnull=False) | Q(expires_at__lte=timezone.now()))
    rows, next_after = keyset_page(mine, query, newest_first=True)
    return {"items": [TokenOut.of(t) for t in rows], "next_after": next_after}


@router.post(
    "/tokens",
    response={201: IssuedTokenOut, **errors(400, 422)},
    tags=["tokens"],
    summary="Create an API token",
)
def create_token(request: HttpRequest, payload: TokenIn) -> Status:
    """Issue a personal token that acts as you. The response carries the token **once**: store
    it now. Send it as `Authorization: Bearer <token>`."""
    issued = tokens.issue_token(
        auth_user(request), payload.name, expires_in_days=payload.expires_in_days
    )
    return Status(201, IssuedTokenOut(**TokenOut._fields(issued.token), token=issued.raw))


@router.delete(
    "/tokens/{token_id}",
    response={200: TokenOut, **errors(404, 409, 422)},
    tags=["tokens"],
    summary="Revoke an API token",
)
def revoke_token(request: HttpRequest, token_id: PathId) -> TokenOut:
    """Revoke one of your tokens: it stops working at once. Revoking twice answers 409."""
    return TokenOut.of(tokens.revoke_token(auth_user(request), token_id))  # type: ignore[arg-type]
