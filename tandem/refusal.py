"""Refusals: the one exception type actions raise when they will not do what was asked.

A refusal carries the HTTP status the pages and the API answer with, and a message that says
what to do instead. A refused action has changed nothing: actions raise before they write, or
inside their transaction so that it rolls back.
"""

from __future__ import annotations


class Refused(Exception):
    status = 400

    def __init__(self, message: str, *, errors: dict[str, list[str]] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.errors = errors or {}


class Invalid(Refused):
    """The input is wrong: a field is missing, of the wrong type, or too long."""

    status = 422


class Forbidden(Refused):
    """The person may see the thing but may not do this to it."""

    status = 403


class NotFound(Refused):
    """The thing does not exist or the person may not know it exists."""

    status = 404


class Conflict(Refused):
    """The thing is not in a state where this can happen (or a replayed key carries other data)."""

    status = 409
