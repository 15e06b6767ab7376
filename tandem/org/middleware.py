from __future__ import annotations

import zoneinfo
from collections.abc import Callable
from functools import wraps
from typing import Any

from django.http import HttpRequest, HttpResponse, HttpResponseBase, StreamingHttpResponse
from django.utils import timezone

from tandem import isolation
from tandem.org.queries import person_of


class PersonTimezoneMiddleware:
    """Show every time in the viewer's own time zone (times are stored in UTC)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        person = person_of(getattr(request, "user", None))
        if person is not None:
            try:
                timezone.activate(zoneinfo.ZoneInfo(person.time_zone))
            except (zoneinfo.ZoneInfoNotFoundError, ValueError):
                timezone.deactivate()
        else:
            timezone.deactivate()
        return self.get_response(request)


def context_of(user: Any) -> str | None:
    """The organisation context of a user: the provider for provider staff, their organisation's
    id for a client's person, none for anybody else. Who the user is gets read in the provider's
    context (the person and their unit are what decides it), and stays cached on the user."""
    with isolation.provider_context():
        person = person_of(user)
        if person is None:
            return None
        organisation_id = person.unit.organisation_id
    return isolation.PROVIDER if organisation_id is None else str(organisation_id)


def enter_context_of(user: Any) -> None:
    """Switch the current request to ``user``'s context (an API token's user, known only once
    the API has read the token); the middleware restores the previous one when the request ends."""
    isolation.set_context(context_of(user))


class OrganisationContextMiddleware:
    """Run each request in the signed-in person's organisation context (tandem/isolation.py):
    PostgreSQL's row-level security then shows a client's person only their organisation's
    rows, whatever a query forgot. Anonymous requests run with none."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        value = context_of(getattr(request, "user", None))
        token = isolation.set_context(value)
        try:
            response = self.get_response(request)
        finally:
            isolation.reset_context(token)
        if isinstance(response, StreamingHttpResponse):
            # A streamed CSV reads its rows after this returns: in the same context.
            response.streaming_content = _in_context(value, response.streaming_content)
        return response


def _in_context(value: str | None, content: Any) -> Any:
    iterator = iter(content)
    while True:
        token = isolation.set_context(value)  # while the next chunk is computed, not while it is sent
        try:
            chunk = next(iterator)
        except StopIteration:
            return
        finally:
            isolation.reset_context(token)
        yield chunk


def before_sign_in(view: Callable[..., HttpResponseBase]) -> Callable[..., HttpResponseBase]:
    """For pages reached before anybody is known: signing in (who is this address, this
    subject, this organisation's provider?) and signed links, whose signature names the person.
    They look people up across organisations, so they run in the provider's context; what they
    show is decided by the sign-in or the signature, never by the visitor's choice of row."""

    @wraps(view)
    def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        with isolation.provider_context():
            return view(request, *args, **kwargs)

    return wrapped
