"""A JSON client for API tests: ``ApiClient(person)`` acts with a fresh personal token.

api = ApiClient(cast.consultant)
response = api.post("/api/requests", {"service": "timesheet-correction", "intake": {...}})
assert response.status_code == 201, response.json()
"""

from __future__ import annotations

from typing import Any

from django.test import Client

from tandem.org.models import Person
from tandem.org.tokens import issue_token


def token_for(person: Person, name: str = "tests", **kwargs: Any) -> str:
    return issue_token(person.user, name, **kwargs).raw


class ApiClient:
    def __init__(self, person: Person | None = None, *, token: str | None = None) -> None:
        if person is not None and token is None:
            token = token_for(person)
        self.token = token
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        self.client = Client(headers=headers or {})

    def get(
        self, path: str, params: dict[str, Any] | None = None, headers: dict[str, str] | None = None
    ) -> Any:
        return self.client.get(path, params or {}, headers=headers or {})

    def post(self, path: str, body: Any = None, headers: dict[str, str] | None = None) -> Any:
        return self.client.post(
            path,
            {} if body is None else body,
            content_type="application/json",
            headers=headers or {},
        )

    def put(self, path: str, body: Any = None, headers: dict[str, str] | None = None) -> Any:
        return self.client.put(
            path,
            {} if body is None else body,
            content_type="application/json",
            headers=headers or {},
        )

    def delete(self, path: str, headers: dict[str, str] | None = None) -> Any:
        return self.client.delete(path, headers=headers or {})

    def raw(
        self, method: str, path: str, data: bytes | str, headers: dict[str, str] | None = None
    ) -> Any:
        """Send bytes as they are (malformed JSON, odd encodings)."""
        return self.client.generic(
            method, path, data, content_type="application/json", headers=headers or {}
        )
