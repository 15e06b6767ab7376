"""The per-request hash chain of events: canonical form, digest and verification (no Django).

Every event of a service request carries ``prev_hash`` (the ``hash`` of the event before it;
64 zeros for event #1) and ``hash``::

    hash = sha256(prev_hash + canonical JSON of
                  [request_id, seq, kind, actor_id, at, from_status, to_status, internal, data])

``at`` is UTC ISO 8601 with microseconds ("2026-11-25T11:00:00.000000+00:00"); the JSON is
``sort_keys``, compact separators, ASCII, so it is the same whichever database stored ``data``
(PostgreSQL's ``jsonb`` reorders keys) and whichever writer built it (the actions, the demo
loader). ``verify_chains`` walks events sorted by (request, seq), merged with the requests'
``last_event_seq``, and returns the first problem. docs/audit.md says what this proves.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

GENESIS = "0" * 64

_dumps = json.JSONEncoder(sort_keys=True, separators=(",", ":"), ensure_ascii=True,
                          allow_nan=False).encode
_sha256 = hashlib.sha256

# An event row as verify_chains reads it (the order of EVENT_FIELDS in the callers).
EventRow = tuple[int, int, str, int | None, datetime | str, str, str, bool, Any, str, str]
EVENT_FIELDS = ("request_id", "seq", "kind", "actor_id", "at", "from_status", "to_status",
                "internal", "data", "prev_hash", "hash")


def iso_utc(at: datetime | str) -> str:
    """``at`` in the chain's form; a string is taken as already in that form."""
    if isinstance(at, str):
        return at
    if at.tzinfo is None:
        raise ValueError("event times must be aware datetimes")
    return at.astimezone(UTC).isoformat(timespec="microseconds")


def canonical(fields: tuple[Any, ...] | list[Any]) -> str:
    """(request_id, seq, kind, actor_id, at, from_status, to_status, internal, data) as JSON."""
    request_id, seq, kind, actor_id, at, from_status, to_status, internal, data = fields
    return _dumps([request_id, seq, kind, actor_id, iso_utc(at), from_status, to_status,
                   bool(internal), data])


def event_digest(prev: str, fields: tuple[Any, ...] | list[Any]) -> str:
    """The ``hash`` of an event whose predecessor's hash is ``prev`` (``GENESIS`` for #1)."""
    return _sha256((prev + canonical(fields)).encode()).hexdigest()


@dataclass(frozen=True)
class Problem:
    """The first thing wrong with a chain. ``kind``: altered, relinked, missing, extra,
    truncated, unknown_request."""

    kind: str
    request_id: int
    seq: int
    message: str
    stored: str = ""
    recomputed: str = ""

    def as_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, "request": self.request_id, "seq": self.seq,
                "message": self.message, "stored": self.stored or None,
                "recomputed": self.recomputed or None}


@dataclass
class Verdict:
    events: int = 0
    requests: int = 0
    problem: Problem | None = field(default=None)

    @property
    def ok(self) -> bool:
        return self.problem is None


def reference(request_id: int) -> str:
    return f"SR-{request_id:06d}"


def verify_chains(rows: Iterable[EventRow],
                  requests: Iterable[tuple[int, int]] | None = None) -> Verdict:
    """Check event chains; stop at the first problem.

    ``rows`` are event tuples in ``EVENT_FIELDS`` order sorted by (request_id, seq);
    ``requests`` are (request_id, last_event_seq) sorted by request_id: every request given
    must have exactly events 1..last_event_seq. Without ``requests`` only the events' own
    chains are checked (the tail cannot be). Both may be streams: memory stays constant.
    """
    verdict = Verdict()
    heads: Iterator[tuple[int, int]] | None = iter(requests) if requests is not None else None
    sha, dumps, iso = _sha256, _dumps, iso_utc
    current: int | None = None  # the request whose events are being read
    expected_seq = 1
    prev = GENESIS
    last_seq = -1  # the current request's last_event_seq (-1: not known)

    def close(request_id: int, seen: int, last: int) -> Problem | None:
        if last < 0 or seen == last:
            return None
        if seen < last:
            return Problem("truncated", request_id, seen + 1,
                           f"{reference(request_id)} is missing event #{seen + 1}: the request "
                           f"records {last} events, the last one stored is #{seen}.")
        return Problem("extra", request_id, last + 1,
                       f"{reference(request_id)} has event #{last + 1} beyond its recorded "
                       f"last event #{last}.")

    def advance(to: int) -> Problem | None:
        """Move the request stream up to ``to``: requests before it must have no events."""
        nonlocal last_seq
        last_seq = -1
        if heads is None:
            return None
        for rid, last in heads:
            if rid < to:
                verdict.requests += 1
                if last != 0:
                    return close(rid, 0, last)
                continue
            if rid == to:
                last_seq = last
                return None
            return Problem("unknown_request", to, 0,
                           f"Events of request {reference(to)}, which is not in the requests.")
        return Problem("unknown_request", to, 0,
                       f"Events of request {reference(to)}, which is not in the requests.")

    for row in rows:
        request_id, seq = row[0], row[1]
        if request_id != current:
            if current is not None and (problem := close(current, expected_seq - 1, last_seq)):
                verdict.problem = problem
                return verdict
            if current is not None and request_id < current:
                verdict.problem = Problem("unordered", request_id, seq,
                                          "Events are not sorted by request.")
                return verdict
            if problem := advance(request_id):
                verdict.problem = problem
                return verdict
            current, expected_seq, prev = request_id, 1, GENESIS
            verdict.requests += 1
        name = reference(request_id)
        if seq != expected_seq:
            if seq > expected_seq:
                verdict.problem = Problem("missing", request_id, expected_seq,
                                          f"{name} is missing event #{expected_seq}"
                                          f" (the next stored event is #{seq}).")
            else:
                verdict.problem = Problem("extra", request_id, seq,
                                          f"{name} has event #{seq} more than once or out of order.")
            return verdict
        stored_prev, stored = row[9], row[10]
        at = row[4]  # event_digest, inlined: this loop runs millions of times
        text = dumps([request_id, seq, row[2], row[3], at if isinstance(at, str) else iso(at),
                      row[5], row[6], bool(row[7]), row[8]])
        recomputed = sha((stored_prev + text).encode()).hexdigest()
        if recomputed != stored:
            verdict.problem = Problem("altered", request_id, seq,
                                      f"{name} event #{seq} was altered: stored hash "
                                      f"{stored or '(none)'} ≠ recomputed {recomputed}.",
                                      stored=stored, recomputed=recomputed)
            return verdict
        if stored_prev != prev:
            verdict.problem = Problem(
                "relinked", request_id, seq,
                f"{name} event #{seq} does not follow event #{seq - 1}: its prev_hash "
                f"{stored_prev or '(none)'} ≠ {prev} (an earlier event was replaced or removed).",
                stored=stored_prev, recomputed=prev)
            return verdict
        prev = stored
        expected_seq += 1
        verdict.events += 1
    if current is not None and (problem := close(current, expected_seq - 1, last_seq)):
        verdict.problem = problem
        return verdict
    if heads is not None:
        for rid, last in heads:
            verdict.requests += 1
            if last != 0:
                verdict.problem = close(rid, 0, last)
                return verdict
    return verdict
