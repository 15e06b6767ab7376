"""A request's and a case's addresses: ``/requests/<key>/`` (``/cases/<key>/`` likewise) where
the key is its id (the provider's own) or its reference (a client's: ``/requests/NORTHERN-000042/``,
``/cases/C-NORTHERN-000007/``), so that no address a client reads shows the id every client's
requests and cases share (docs/isolation.md, "References").

The path converter ``request`` reads either into the request's id, and the view's own access
check does the rest: an unknown or malformed reference matches no request and answers 404, like
another client's. Which form a client's person may open is ``tandem.org.client_reach``'s.
"""

from __future__ import annotations

from typing import Any

from tandem.work.models import Case, ServiceRequest
from tandem.work.numbering import canonical

#: A reference in an address: a prefix, a hyphen, its number (as typed; ``canonical`` reads it).
REFERENCE_PATTERN = r"^[A-Za-z][A-Za-z0-9-]{0,59}-[0-9]{1,9}$"
#: What an unknown case answers (the same reason).
NO_SUCH_CASE = "There is no case with that reference or id that you can see."
#: What an unknown request answers, never echoing the key: an id the converter read from another
#: client's reference would place that client's request in the shared sequence.
NO_SUCH_REQUEST = "There is no service request with that reference or id that you can see."


class _Key:
    """``<request:pk>``, ``<case:pk>``: an id, or a reference such as ``NORTHERN-000042`` or
    ``C-NORTHERN-000007`` (case and zeros as typed)."""

    model: type[ServiceRequest] | type[Case]
    regex = rf"[0-9]{{1,12}}|{REFERENCE_PATTERN[1:-1]}"

    def to_python(self, value: str) -> int:
        if value.isdigit():
            return int(value)
        reference = canonical(value)
        found = self.model._default_manager.filter(reference=reference).values_list("pk", flat=True).first() \
            if reference else None
        if found is None:
            raise ValueError(f"No {self.model._meta.verbose_name} {value}.")  # no match: the resolver answers 404
        return int(found)

    def to_url(self, value: Any) -> str:
        if isinstance(value, self.model):
            return value.address_key
        return str(value)


class RequestKey(_Key):
    model = ServiceRequest


class CaseKey(_Key):
    model = Case
