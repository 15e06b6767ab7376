"""The REST API under /api/: one NinjaAPI, its authentication, its error shape, its routers.

Authentication, in this order: a personal token in ``Authorization: Bearer <token>``, then
the Django session of a signed-in browser (with Django's CSRF check on unsafe methods).

Every refusal answers ``{"detail": "<what to fix>", "errors": {"<field>": ["<message>"]}}``
with its status: 400 unreadable JSON, 401 no or bad credentials, 403 not allowed, 404 not
found (or not yours to know about), 409 wrong state, 413 too large, 422 invalid input.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Iterator
from typing import Any

from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from django.http import Http404, HttpRequest, HttpResponse
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, HttpError, ValidationError
from ninja.operation import Operation
from ninja.parser import Parser
from ninja.security import APIKeyCookie, HttpBearer
from ninja.utils import check_csrf

from tandem.isolation import provider_context
from tandem.org.api_shared import ERROR_DESCRIPTIONS, MAX_ID, hide_shared_ids
from tandem.org.client_reach import client_may_open
from tandem.org.middleware import enter_context_of
from tandem.org.queries import is_client, person_of
from tandem.org.tokens import HOW_TO_GET_ONE, TokenRefused, user_for_token
from tandem.refusal import Refused
from tandem.work.addresses import REFERENCE_PATTERN

logger = logging.getLogger(__name__)

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "TRACE"})


# --- authentication ----------------------------------------------------------------------------


class TokenAuth(HttpBearer):
    """A personal API token: ``Authorization: Bearer tdm_...``."""

    def authenticate(self, request: HttpRequest, token: str) -> Any:
        try:
            with provider_context():  # the token says who asks, whatever their organisation
                user = user_for_token(token)
            enter_context_of(user)
        except TokenRefused as refusal:
            # Raised, not returned as None: a client that sent a token wants to hear what is
            # wrong with it, not fall through to "not signed in".
            raise AuthenticationError(401, refusal.message) from refusal
        return within_reach(request, user)


def within_reach(request: HttpRequest, user: Any) -> Any:
    """A client organisation's person calls only the operations of their world
    (``tandem.org.client_reach``); any other answers 404, as an address that does not exist."""
    person = person_of(user)
    if not client_may_open(person, request.path_info):
        raise HttpError(404, f"There is no API endpoint {request.path} for your organisation.")
    hide_shared_ids(is_client(person))  # set on every call: never left over from the last one
    return user


class SessionAuth(APIKeyCookie):
    """The session of a signed-in browser. Unsafe methods must carry Django's CSRF token
    (``X-CSRFToken`` header), so that another site cannot act with the visitor's cookie.

    Unlike ninja's own ``SessionAuth``, the CSRF check runs only for a signed-in session, so
    that a request with no credentials at all hears 401 (sign in), not 403 (CSRF).
    """

    param_name = settings.SESSION_COOKIE_NAME

    def __init__(self) -> None:
        super().__init__(csrf=True)

    def _get_key(self, request: HttpRequest) -> str | None:
        return request.COOKIES.get(self.param_name)

    def authenticate(self, request: HttpRequest, key: str | None) -> Any:
        user = getattr(request, "user", None)
        if user is None or not user.is_authenticated:
            return None
        if (
            request.method not in SAFE_METHODS
            and not getattr(request, "_ninja_csrf_exempt", False)
            and check_csrf(request) is not None
        ):
            raise HttpError(
                403,
                "CSRF check failed: a signed-in browser must send the csrftoken cookie's value in "
                "an X-CSRFToken header. Scripts should use an API token instead.",
            )
        return within_reach(request, user)


# --- request bodies ----------------------------------------------------------------------------


class BodyRefused(Exception):
    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class JsonParser(Parser):
    """JSON bodies, refusing text no database can store (NUL characters, lone surrogates)
    with a 400 that says so, instead of a 500 from the database driver later."""

    def parse_body(self, request: HttpRequest) -> Any:
        try:
            data = json.loads(request.body)
        except json.JSONDecodeError as error:
            raise BodyRefused(
                f"The body is not valid JSON ({error.msg} at line {error.lineno}, "
                f"column {error.colno}). "
                "Send a JSON object with Content-Type: application/json."
            ) from error
        except (UnicodeDecodeError, RecursionError, ValueError) as error:
            raise BodyRefused(
                "The body is not readable JSON (it must be UTF-8 and not nested too deeply)."
            ) from error
        for value in _strings(data):
            if "\x00" in value:
                raise BodyRefused("The body contains a NUL character (\\u0000); remove it.")
            try:
                value.encode("utf-8")
            except UnicodeEncodeError as error:
                raise BodyRefused(
                    "The body contains an unpaired UTF-16 surrogate (e.g. \\ud800); "
                    "send valid Unicode."
                ) from error
        return data


def _strings(data: Any) -> Iterator[str]:
    """Every string (keys included) in parsed JSON, without recursion."""
    stack = [data]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            yield item
        elif isinstance(item, dict):
            stack.extend(item.keys())
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)


# --- the API -----------------------------------------------------------------------------------


class TandemAPI(NinjaAPI):
    def get_openapi_operation_id(self, operation: Operation) -> str:
        """``list_requests`` reads as ``listRequests``."""
        head, *rest = operation.view_func.__name__.split("_")
        return head + "".join(word.title() for word in rest)

    def get_openapi_schema(self, *args: Any, **kwargs: Any) -> Any:
        schema = super().get_openapi_schema(*args, **kwargs)
        # Say when each refusal happens instead of the bare HTTP reason phrase.
        for operations in schema.get("paths", {}).values():
            for operation in operations.values():
                for code, response in operation.get("responses", {}).items():
                    if int(code) in ERROR_DESCRIPTIONS:
                        response["description"] = ERROR_DESCRIPTIONS[int(code)]
        self._keys_take_references(schema)
        return schema

    def _keys_take_references(self, schema: dict[str, Any]) -> None:
        """``{request:request_id}`` and ``{case:case_id}`` (the path converters of
        tandem.work.addresses) take an id or a reference: say both, rather than the integer the
        view receives."""
        for converter, name, example in (("request", "request_id", "NORTHERN-000042"),
                                         ("case", "case_id", "C-NORTHERN-000007")):
            keyed = {
                "/api/" + re.sub(r"{[^}:]+:", "{", "/".join(p for p in (bound.prefix, path) if p)).lstrip("/")
                for bound in self._get_bound_routers() for path in bound.path_operations
                if "{" + converter + ":" in path
            }
            for path in keyed & set(schema.get("paths", {})):
                for operation in schema["paths"][path].values():
                    for param in operation.get("parameters", []):
                        if param["in"] == "path" and param["name"] == name:
                            param["schema"] = {"anyOf": [
                                {"type": "integer", "minimum": 1, "maximum": MAX_ID},
                                {"type": "string", "pattern": REFERENCE_PATTERN, "examples": [example]},
                            ], "title": converter.title()}


api = TandemAPI(
    title="Tandem",
    version="1",
    description=(
        "The service hub between the front office and the back office. Authenticate with a "
        "personal token (`Authorization: Bearer <token>`; create one with `tandem createtoken` "
        "or `POST /api/tokens`) or a signed-in session. Lists are keyset-paginated: pass "
        "`next_after` back as `after`. Every refusal is `{detail, errors}`. See docs/api.md."
    ),
    urls_namespace="api",
    auth=[TokenAuth(), SessionAuth()],
    parser=JsonParser(),
)


# --- refusals, all in one shape ----------------------------------------------------------------


def refusal_response(
    request: HttpRequest, status: int, detail: str, errors: dict[str, list[str]] | None = None
) -> HttpResponse:
    response = api.create_response(
        request, {"detail": detail, "errors": errors or {}}, status=status
    )
    if status == 401:
        response["WWW-Authenticate"] = 'Bearer realm="tandem"'
    return response


def _on_refused(request: HttpRequest, exc: Refused) -> HttpResponse:
    errors = {re.sub(r"\s+", "_", key): list(messages) for key, messages in exc.errors.items()}
    return refusal_response(request, exc.status, exc.message, errors)


FRIENDLY = {
    "missing": "This field is required.",
    "extra_forbidden": "Unknown field: remove it (/api/docs lists the fields).",
}


def _field(loc: tuple[Any, ...]) -> str:
    # ("body", "<argument name>", "intake", "hours") → "intake.hours"; ("query", "limit") → "limit"
    source, *rest = loc or ("",)
    path = rest[1:] if source == "body" else rest
    return ".".join(str(part) for part in path) or "__all__"


def _message(error: dict[str, Any]) -> str:
    kind = error.get("type", "")
    loc = tuple(error.get("loc", ()))
    if loc[:1] == ("body",) and len(loc) <= 2:
        # The body as a whole: missing, or not a JSON object.
        return (
            "Send a JSON object as the body."
            if kind == "missing"
            else "The body must be a JSON object."
        )
    if kind == "string_too_short" and error.get("ctx", {}).get("min_length") == 1:
        return "This field is required: write a few words."
    return FRIENDLY.get(kind, error.get("msg", "Invalid value."))


def _on_validation_error(request: HttpRequest, exc: ValidationError) -> HttpResponse:
    errors: dict[str, list[str]] = {}
    for error in exc.errors:
        errors.setdefault(_field(tuple(error.get("loc", ()))), []).append(_message(error))
    names = ", ".join(errors)
    return refusal_response(
        request,
        422,
        f"Some fields are missing or wrong ({names}): correct them and send again.",
        errors,
    )


def _on_http_error(request: HttpRequest, exc: HttpError) -> HttpResponse:
    if isinstance(exc.__cause__, BodyRefused):
        return refusal_response(request, 400, exc.__cause__.message)
    if isinstance(exc, AuthenticationError) and exc.message == "Unauthorized":
        return refusal_response(
            request,
            401,
            "Authentication required: sign in, or send a personal API token. " + HOW_TO_GET_ONE,
        )
    return refusal_response(request, exc.status_code, exc.message)


def _on_not_found(request: HttpRequest, exc: Http404) -> HttpResponse:
    return refusal_response(request, 404, "Not found. GET /api/openapi.json lists what exists.")


def _on_too_big(request: HttpRequest, exc: RequestDataTooBig) -> HttpResponse:
    return refusal_response(
        request,
        413,
        f"The body is larger than {settings.DATA_UPLOAD_MAX_MEMORY_SIZE:,} bytes; send less, "
        "or put long text in a document and give its reference.",
    )


def _on_unexpected(request: HttpRequest, exc: Exception) -> HttpResponse:
    logger.exception("API request failed: %s %s", request.method, request.path, exc_info=exc)
    return refusal_response(
        request, 500, "Something went wrong on our side; it has been logged. Try again later."
    )


# (ninja types a handler's second argument as "the exception or its class"; ours take the former.)
api.add_exception_handler(Refused, _on_refused)  # type: ignore[arg-type]
api.add_exception_handler(ValidationError, _on_validation_error)  # type: ignore[arg-type]
api.add_exception_handler(HttpError, _on_http_error)  # type: ignore[arg-type]
api.add_exception_handler(Http404, _on_not_found)  # type: ignore[arg-type]
api.add_exception_handler(RequestDataTooBig, _on_too_big)  # type: ignore[arg-type]
api.add_exception_handler(Exception, _on_unexpected)  # type: ignore[arg-type]


def endpoint_not_found(request: HttpRequest, rest: str = "") -> HttpResponse:
    """Any other path under /api/: a JSON 404 in the same shape, never an HTML page."""
    return refusal_response(
        request, 404, f"There is no API endpoint {request.path}; GET /api/openapi.json lists them."
    )


# --- routers -----------------------------------------------------------------------------------

api.add_router("", "tandem.site.routes.router")
api.add_router("", "tandem.org.api.router")
api.add_router("", "tandem.catalogue.api.router")
api.add_router("", "tandem.agreements.api.router")
api.add_router("", "tandem.agreements.api_clients.router")
api.add_router("", "tandem.work.api.router")
api.add_router("", "tandem.work.api_cases.router")
api.add_router("", "tandem.work.api_time.router")
api.add_router("", "tandem.work.api_approvals.router")
api.add_router("", "tandem.work.api_files.router")
api.add_router("", "tandem.work.api_advice.router")
api.add_router("", "tandem.notifications.api.router")
api.add_router("", "tandem.notifications.api_webhooks.router")
api.add_router("", "tandem.promises.api.router")
api.add_router("", "tandem.demand.api.router")
api.add_router("", "tandem.changes.api.router")
api.add_router("", "tandem.changes.api_proposals.router")
api.add_router("", "tandem.search.api.router")
api.add_router("", "tandem.allocation.api.router")
api.add_router("", "tandem.allocation.api_plan.router")
api.add_router("", "tandem.insights.api.router")
api.add_router("", "tandem.voice.api.router")
api.add_router("", "tandem.voice.api_review.router")
api.add_router("", "tandem.pay.api.router")
