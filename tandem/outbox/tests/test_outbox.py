"""The outbox on a real database. A reaction in the transaction runs at the end of its action and
commits with it; one that fails is rolled back alone and left to the worker. A reaction after
the commit is delivered once its action commits, never when the action is refused, in order per
key, retried after a failure, given up on after the last attempt, and found again by the worker
when the process that owed it died."""

from __future__ import annotations

import io
import json
import subprocess
import sys
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from django.core.management import call_command
from django.db import connection

from tandem.outbox import registry
from tandem.outbox.actions import (
    FIRST_RETRY,
    HOST,
    MAX_ATTEMPTS,
    action_transaction,
    deliver,
    deliver_due,
    publish,
    purge_handled,
    retry_delay,
)
from tandem.outbox.models import Message
from tandem.refusal import Conflict

T0 = datetime(2026, 12, 7, 9, 0, tzinfo=UTC)


class Recorder:
    """A consumer for the tests: it notes what it handled, and fails while told to."""

    def __init__(self) -> None:
        self.seen: list[tuple[str, str, dict[str, Any]]] = []
        self.failing: set[str] = set()  # keys whose messages raise

    def __call__(self, message: Message) -> None:
        if message.key in self.failing:
            raise RuntimeError(f"cannot handle {message.key}")
        self.seen.append((message.topic, message.key, message.payload))


@pytest.fixture
def consumers() -> Iterator[None]:
    """Consumers a test subscribes are gone after it."""
    saved = dict(registry._consumers)
    try:
        yield
    finally:
        registry._consumers.clear()
        registry._consumers.update(saved)
        registry.consumers_of.cache_clear()


@pytest.fixture
def recorder(consumers: None) -> Recorder:
    """A consumer that reacts after the commit, through outbox rows."""
    made = Recorder()
    registry.subscribe("test-recorder", ["thing.*"], made, in_transaction=False)
    return made


@pytest.fixture
def inside(consumers: None) -> Recorder:
    """A consumer that reacts inside the action's transaction."""
    made = Recorder()
    registry.subscribe("test-inside", ["thing.*"], made)
    return made


def owed(consumer: str = "test-recorder") -> list[Message]:
    return list(Message.objects.filter(consumer=consumer, handled_at__isnull=True).order_by("id"))


def test_a_reaction_in_the_transaction_commits_with_its_action(db: None, inside: Recorder) -> None:
    with action_transaction():
        publish("thing.made", "thing:1", {"n": 1})
        assert inside.seen == []  # at the end of the action, not at publishing
    assert inside.seen == [("thing.made", "thing:1", {"n": 1})]
    assert Message.objects.count() == 0  # nothing to deliver later


def test_a_reaction_once_per_action_runs_once_per_key_and_again_for_what_reactions_publish(
    db: None, consumers: None
) -> None:
    once, every = Recorder(), Recorder()
    registry.subscribe("test-once", ["thing.*"], once, once_per_action=True)
    registry.subscribe("test-every", ["thing.*"], every)

    def republish(message: Message) -> None:  # a reaction that publishes about the same key
        if message.topic == "thing.made":
            publish("thing.followed", message.key, {"n": 9})

    registry.subscribe("test-republish", ["thing.made"], republish)
    with action_transaction():
        publish("thing.made", "thing:1", {"n": 1})
        publish("thing.changed", "thing:1", {"n": 2})
        publish("thing.changed", "thing:2", {"n": 3})
    assert [(t, k) for t, k, _ in every.seen] == [
        ("thing.made", "thing:1"), ("thing.changed", "thing:1"), ("thing.changed", "thing:2"),
        ("thing.followed", "thing:1")]
    # Once for each key the action published about, plus once for the reaction's later message.
    assert [(t, k) for t, k, _ in once.seen] == [
        ("thing.made", "thing:1"), ("thing.changed", "thing:2"), ("thing.followed", "thing:1")]
    with pytest.raises(ValueError, match="only a reaction in the transaction"):
        registry.subscribe("test-bad", ["thing.*"], once, in_transaction=False, once_per_action=True)


def test_a_failing_reaction_in_the_transaction_is_left_to_the_worker_and_the_action_commits(
    db: None, inside: Recorder
) -> None:
    inside.failing.add("thing:1")
    with action_transaction():
        publish("thing.made", "thing:1", {"n": 1})
        publish("thing.made", "thing:2", {"n": 2})
    assert inside.seen == [("thing.made", "thing:2", {"n": 2})]
    owed = Message.objects.get(consumer="test-inside")
    assert (owed.key, owed.attempts, owed.handled_at) == ("thing:1", 1, None)
    inside.failing.clear()
    assert deliver_due(now=owed.available_at + timedelta(seconds=1)) == 1
    assert inside.seen[-1] == ("thing.made", "thing:1", {"n": 1})


def test_it_handles_a_message_as_soon_as_its_action_commits(db: None, recorder: Recorder) -> None:
    with action_transaction():
        publish("thing.made", "thing:1", {"n": 1})
        assert recorder.seen == []  # not before the commit
    assert recorder.seen == [("thing.made", "thing:1", {"n": 1})]
    message = Message.objects.get(consumer="test-recorder")
    assert message.handled_at is not None and message.attempts == 1


def test_a_refused_action_leaves_no_message_and_no_reaction(db: None, recorder: Recorder, inside: Recorder) -> None:
    with pytest.raises(Conflict), action_transaction():
        publish("thing.made", "thing:1")
        raise Conflict("refused after publishing")
    assert recorder.seen == inside.seen == [] and Message.objects.count() == 0


def test_a_topic_nobody_listens_to_writes_nothing(db: None, recorder: Recorder) -> None:
    with action_transaction():
        publish("other.made", "thing:1")
    assert Message.objects.count() == 0


def test_publishing_outside_an_action_transaction_is_refused(db: None, recorder: Recorder) -> None:
    with pytest.raises(RuntimeError, match="outside an action_transaction"):
        publish("thing.made", "thing:1")


def test_action_transactions_do_not_nest(db: None) -> None:
    with pytest.raises(RuntimeError), action_transaction(), action_transaction():
        pass


def test_a_failure_is_retried_later_and_blocks_the_key_but_not_others(db: None, recorder: Recorder) -> None:
    recorder.failing.add("thing:1")
    with action_transaction():
        publish("thing.made", "thing:1", {"n": 1})
        publish("thing.changed", "thing:1", {"n": 2})
        publish("thing.made", "thing:2", {"n": 3})
    # thing:2 went through; thing:1's first message failed and its second waits behind it
    assert recorder.seen == [("thing.made", "thing:2", {"n": 3})]
    first, second = owed()
    assert (first.attempts, second.attempts) == (1, 0)
    assert "cannot handle thing:1" in first.last_error
    waits = (first.available_at - first.created_at).total_seconds()
    assert FIRST_RETRY.total_seconds() - 1 <= waits <= FIRST_RETRY.total_seconds() + 5

    assert deliver_due() == 0  # not due yet
    recorder.failing.clear()
    assert deliver_due(now=first.available_at + timedelta(seconds=1)) == 2
    assert [s[2]["n"] for s in recorder.seen] == [3, 1, 2]  # in order within the key
    assert owed() == []


def test_it_gives_up_after_the_last_attempt_and_an_operator_retries(db: None, recorder: Recorder) -> None:
    recorder.failing.add("thing:9")
    with action_transaction():
        publish("thing.made", "thing:9")
    at = datetime.now(UTC)
    for attempt in range(2, MAX_ATTEMPTS + 1):
        at += retry_delay(attempt - 1) + timedelta(seconds=1)
        deliver_due(now=at)
    message = Message.objects.get(consumer="test-recorder")
    assert message.attempts == MAX_ATTEMPTS and message.failed_at is not None
    assert deliver_due(now=at + timedelta(days=1)) == 0  # given up: the worker leaves it

    out = io.StringIO()
    call_command("outbox", "--json", stdout=out)
    report = json.loads(out.getvalue())
    row = next(r for r in report["consumers"] if r["consumer"] == "test-recorder")
    assert (row["pending"], row["failed"]) == (0, 1)
    assert report["failures"][0]["error"].startswith("RuntimeError: cannot handle thing:9")

    recorder.failing.clear()
    call_command("outbox", "--retry", stdout=io.StringIO())
    assert deliver_due() == 1 and recorder.seen == [("thing.made", "thing:9", {})]


def test_retry_waits_double_each_time_up_to_an_hour() -> None:
    assert [retry_delay(n).total_seconds() for n in (1, 2, 3, 8, 12)] == [30, 60, 120, 3600, 3600]


def test_the_worker_handles_what_a_dead_process_left(db: None, recorder: Recorder) -> None:
    # As if the process died between the commit and the reaction: the row is there, unhandled.
    Message.objects.create(topic="thing.made", key="thing:3", consumer="test-recorder", payload={"n": 7})
    assert deliver_due() == 1
    assert recorder.seen == [("thing.made", "thing:3", {"n": 7})]


def test_a_message_held_by_a_live_handler_is_left_alone_until_its_lease_ends(db: None, recorder: Recorder) -> None:
    until = datetime.now(UTC) + timedelta(minutes=4)
    # Held by another machine's process: only the end of its lease frees it.
    Message.objects.create(topic="thing.made", key="thing:4", consumer="test-recorder", claimed_until=until,
                           claimed_by="elsewhere:4242")
    assert deliver("test-recorder", "thing:4") == 0 and recorder.seen == []
    assert deliver_due(now=until + timedelta(seconds=1)) == 1 and [s[1] for s in recorder.seen] == ["thing:4"]


def test_a_message_held_by_a_dead_process_of_this_machine_is_taken_over_at_once(
    db: None, recorder: Recorder
) -> None:
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    Message.objects.create(topic="thing.made", key="thing:6", consumer="test-recorder",
                           claimed_until=datetime.now(UTC) + timedelta(minutes=4),
                           claimed_by=f"{HOST}:{dead.stdout.strip()}")
    assert deliver_due() == 1 and [s[1] for s in recorder.seen] == ["thing:6"]


def test_a_message_of_a_consumer_this_release_does_not_know_waits(db: None) -> None:
    Message.objects.create(topic="thing.made", key="thing:5", consumer="from-a-newer-release")
    assert deliver_due() == 0
    assert Message.objects.get().handled_at is None


def test_handled_messages_are_purged_after_a_week(db: None, recorder: Recorder) -> None:
    with action_transaction():
        publish("thing.made", "thing:1")
    handled = Message.objects.get()
    assert handled.handled_at is not None
    assert purge_handled(now=handled.handled_at + timedelta(days=6)) == 0
    assert purge_handled(now=handled.handled_at + timedelta(days=8)) == 1


@pytest.mark.django_db(transaction=True)
def test_two_workers_at_once_handle_each_message_once(recorder: Recorder) -> None:
    if connection.vendor == "sqlite" and connection.settings_dict["NAME"].startswith(("file:memorydb", ":memory:")):
        pytest.skip("an in-memory SQLite database is not shared between threads")
    for n in range(40):
        Message.objects.create(topic="thing.made", key=f"thing:{n % 8}", consumer="test-recorder", payload={"n": n})
    counts: list[int] = []

    def work() -> None:
        try:
            counts.append(deliver_due())
        finally:
            connection.close()

    threads = [threading.Thread(target=work) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sum(counts) == 40
    assert sorted(s[2]["n"] for s in recorder.seen) == list(range(40))
    by_key: dict[str, list[int]] = {}
    for _topic, key, payload in recorder.seen:
        by_key.setdefault(key, []).append(payload["n"])
    assert all(ns == sorted(ns) for ns in by_key.values())  # each key in order
