"""What every HTML page shares: who may open it, and how a refusal is shown."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.http import url_has_allowed_host_and_scheme

from tandem.org.client_reach import client_may_open
from tandem.org.queries import person_of
from tandem.refusal import Refused

PersonView = Callable[..., HttpResponse]


def staff_page(view: PersonView) -> Callable[..., HttpResponse]:
    """Sign-in required, and a staff profile: the view receives the signed-in ``Person``."""

    @login_required
    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        me = person_of(request.user)
        if me is None:
            return refused(
                request,
                Refused(
                    "Your account has no staff profile yet, so Tandem does not know your unit. "
                    "Ask an administrator to add you to a unit."
                ),
                status=403,
            )
        if not client_may_open(me, request.path_info):
            # Outside a client organisation's world: as if the page did not exist (docs/organisations.md).
            raise Http404("No such page.")
        return view(request, me, *args, **kwargs)

    return wrapper


def refused(
    request: HttpRequest,
    refusal: Refused,
    *,
    status: int | None = None,
    title: str = "That did not work",
) -> HttpResponse:
    """A page of its own for a refusal that has no form to show it beside."""
    return render(
        request,
        "refused.html",
        {"refusal": refusal, "title": title},
        status=status or refusal.status,
    )


def safe_next(request: HttpRequest, fallback: str) -> str:
    """Where a form asked to go back to, when that is a page of ours."""
    target = request.POST.get("next") or request.GET.get("next") or ""
    if url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return fallback


def csv_number(value: float | None, digits: int = 4) -> str:
    """A figure for a CSV download: blank when there is none, else fixed decimals."""
    return "" if value is None else f"{value:.{digits}f}"
