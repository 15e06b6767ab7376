"""The event hash chain, without a database: digest, canonical form, every kind of break."""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime, timedelta, timezone

import pytest

from tandem.engines.auditchain import GENESIS, canonical, event_digest, iso_utc, verify_chains

T0 = datetime(2026, 11, 25, 11, 0, tzinfo=UTC)


def chain(request_id: int, n: int, *, start: int = 1) -> list[tuple]:
    rows, prev = [], GENESIS
    for seq in range(start, start + n):
        fields = (request_id, seq, "commented", 7, T0 + timedelta(seconds=seq), "", "", False,
                  {"comment": seq, "b": [1, 2.5], "a": None})
        digest = event_digest(prev, fields)
        rows.append((*fields, prev, digest))
        prev = digest
    return rows


def test_the_digest_is_sha256_of_the_previous_hash_and_sorted_compact_json() -> None:
    fields = (3, 1, "submitted", None, T0, "", "new", False, {"z": 1, "a": "é"})
    text = '[3,1,"submitted",null,"2026-11-25T11:00:00.000000+00:00","","new",false,{"a":"\\u00e9","z":1}]'
    assert canonical(fields) == text
    assert event_digest(GENESIS, fields) == hashlib.sha256((GENESIS + text).encode()).hexdigest()


def test_key_order_and_time_zone_do_not_change_the_digest() -> None:
    paris = T0.astimezone(timezone(timedelta(hours=1)))
    a = event_digest(GENESIS, (1, 1, "x", None, T0, "", "", False, {"a": 1, "b": {"c": 2, "d": 3}}))
    b = event_digest(GENESIS, (1, 1, "x", None, paris, "", "", False,
                               json.loads('{"b": {"d": 3, "c": 2}, "a": 1}')))
    assert a == b
    assert iso_utc(paris) == "2026-11-25T11:00:00.000000+00:00"
    with pytest.raises(ValueError, match="aware"):
        iso_utc(datetime(2026, 1, 1))


def test_intact_chains_verify() -> None:
    rows = chain(1, 5) + chain(2, 3)
    verdict = verify_chains(rows, [(1, 5), (2, 3)])
    assert verdict.ok and verdict.events == 8 and verdict.requests == 2
    assert verify_chains(rows).ok  # without the requests only the links are checked


def test_an_altered_event_is_named() -> None:
    rows = chain(1, 5)
    r = list(rows[2])
    r[8] = {"comment": 999}
    rows[2] = tuple(r)
    problem = verify_chains(rows, [(1, 5)]).problem
    assert problem and problem.kind == "altered" and problem.seq == 3
    assert problem.message.startswith("SR-000001 event #3 was altered: stored hash ")
    assert problem.stored == rows[2][10] and problem.recomputed != problem.stored


def test_a_rehashed_event_breaks_the_next_link() -> None:
    rows = chain(1, 4)
    r = list(rows[1])
    r[2] = "resolved"
    r[10] = event_digest(r[9], r[:9])
    rows[1] = tuple(r)
    problem = verify_chains(rows, [(1, 4)]).problem
    assert problem and problem.kind == "relinked" and problem.seq == 3


def test_a_missing_event_is_named() -> None:
    rows = chain(1, 5)
    del rows[3]
    problem = verify_chains(rows, [(1, 5)]).problem
    assert problem and problem.kind == "missing" and problem.seq == 4
    assert problem.message.startswith("SR-000001 is missing event #4")


def test_a_renumbered_gap_is_still_caught_by_the_links() -> None:
    rows = chain(1, 5)
    del rows[1]
    rows = [(r[0], i + 1, *r[2:]) for i, r in enumerate(rows)]
    problem = verify_chains(rows, [(1, 4)]).problem
    assert problem and problem.kind == "altered"  # seq is hashed


def test_a_duplicated_seq_is_extra() -> None:
    rows = chain(1, 3)
    rows.insert(2, rows[1])
    problem = verify_chains(rows, [(1, 3)]).problem
    assert problem and problem.kind == "extra" and problem.seq == 2


def test_a_truncated_tail_and_a_request_without_events_are_missing_events() -> None:
    problem = verify_chains(chain(1, 5)[:4], [(1, 5)]).problem
    assert problem and problem.kind == "truncated" and problem.seq == 5
    assert "SR-000001 is missing event #5" in problem.message
    problem = verify_chains(chain(2, 2), [(1, 3), (2, 2)]).problem
    assert problem and problem.kind == "truncated" and problem.request_id == 1 and problem.seq == 1
    problem = verify_chains(chain(1, 2), [(1, 2), (2, 1)]).problem
    assert problem and problem.request_id == 2 and problem.seq == 1


def test_events_beyond_the_recorded_last_event_are_extra() -> None:
    problem = verify_chains(chain(1, 5), [(1, 4)]).problem
    assert problem and problem.kind == "extra" and problem.seq == 5


def test_events_of_an_unknown_request_are_reported() -> None:
    problem = verify_chains(chain(1, 2) + chain(3, 1), [(1, 2), (2, 0)]).problem
    assert problem and problem.kind == "unknown_request" and problem.request_id == 3


def test_a_chain_that_does_not_start_at_genesis_is_caught() -> None:
    rows = chain(1, 3)
    forged = [(r[0], r[1], *r[2:]) for r in rows[1:]]
    forged = [(1, i + 1, *r[2:9], r[9], r[10]) for i, r in enumerate(forged)]
    assert not verify_chains(forged, [(1, 2)]).ok
