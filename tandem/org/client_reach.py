"""Where a client organisation's people may go (docs/organisations.md, "What a client sees").

A client's person opens only the pages and API operations listed here; every other address
answers 404 for them, as if it did not exist. The list is an allow-list on purpose: a page
added tomorrow that reads across the provider's whole work (evidence, plans, the change
calendar) is closed to clients until someone scopes it and adds it here, rather than open
until someone remembers. What these pages show is scoped in the permission-aware query entries
(``requests_visible_to``, ``cases_visible_to``, ``people_visible_to``, ...), which hold for
every caller; this list only keeps clients off the pages that aggregate across organisations.

``staff_page`` (pages) and the API's authentication (``tandem.site.api``) both ask
``client_may_open``; the two-client matrix (tests/test_tenant_matrix.py) checks the result.
"""

from __future__ import annotations

import re

from tandem.org.models import Person
from tandem.org.queries import is_client

#: Pages a client's person may open: their requests and cases (and everything on them), the
#: catalogue of the provider's services, their notifications, search, the pulse they answer,
#: the approvals waiting for them, and their organisation's service review (computed over its
#: own requests only; tandem.voice.service_review).
#: A client's request is addressed by its reference (``/requests/NORTHERN-000042/``,
#: tandem.work.addresses), never by its id: ids come from one sequence shared by every client, so
#: a client opening ``/requests/<id>/`` could count the others' requests between two of its own.
#: A case likewise (``/cases/C-NORTHERN-000007/``).
CLIENT_PAGES = re.compile(
    r"^/(?:"
    r"|requests/(?:[A-Za-z][A-Za-z0-9-]*-\d+/(?!journey/).*)?"
    r"|cases/(?:new/|[A-Za-z][A-Za-z0-9-]*-\d+/(?:close/)?)?"
    r"|catalogue/.*"
    r"|notifications/.*"
    r"|search/"
    r"|pulse/"
    r"|my-approvals/"
    r"|service-review/(?:reports/\d+/)?"
    r")$"
)

#: API operations a client's person may call (the same world as the pages). A request is
#: addressed by its reference here too: ``/api/requests/<id>/...`` answers them 404.
CLIENT_API = re.compile(
    r"^/api/(?:"
    r"me(?:/email-notifications)?"
    r"|tokens(?:/\d+)?"
    r"|units"
    r"|services(?:/[^/]+)?"
    r"|requests(?:/[A-Za-z][A-Za-z0-9-]*-\d+(?:/.*)?)?"
    r"|cases(?:/[A-Za-z][A-Za-z0-9-]*-\d+(?:/close)?)?"
    r"|comments/\d+/(?:acknowledge|decision)"
    r"|notifications(?:/read)?"
    r"|search"
    r"|quotes"
    r"|pulse/(?:questions|answers)"
    r"|approvals/waiting"
    r"|service-review"
    r"|openapi\.json|docs"
    r")/?$"
)


def client_may_open(person: Person | None, path: str) -> bool:
    """False only for a client organisation's person at an address outside their world."""
    if not is_client(person):
        return True
    pattern = CLIENT_API if path.startswith("/api/") else CLIENT_PAGES
    return pattern.match(path) is not None
