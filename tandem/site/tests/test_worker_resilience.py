"""A database error in one worker round (a deadlock, a lost connection) is logged and the next
round runs: the worker does not die and leave the due work for nobody."""

from __future__ import annotations

import os
import signal

import pytest
from django.core.management import CommandError, call_command
from django.db import OperationalError

from tandem.site.management.commands import worker

pytestmark = pytest.mark.django_db(transaction=True)


def test_a_round_that_fails_on_the_database_is_followed_by_the_next(monkeypatch, caplog) -> None:
    rounds: list[int] = []

    def refresh_forecasts() -> tuple[int, int]:
        rounds.append(1)
        if len(rounds) == 1:
            raise OperationalError("deadlock detected")
        os.kill(os.getpid(), signal.SIGTERM)  # the second round ran: stop the worker
        return 0, 0

    monkeypatch.setattr(worker, "refresh_forecasts", refresh_forecasts)
    before = signal.getsignal(signal.SIGTERM), signal.getsignal(signal.SIGINT)
    try:
        call_command("worker", "--interval", "0")
    finally:
        signal.signal(signal.SIGTERM, before[0])
        signal.signal(signal.SIGINT, before[1])
    assert len(rounds) == 2
    assert "retrying next round" in caplog.text


def test_a_single_round_that_fails_says_so(monkeypatch) -> None:
    def refresh_forecasts() -> tuple[int, int]:
        raise OperationalError("the database went away")

    monkeypatch.setattr(worker, "refresh_forecasts", refresh_forecasts)
    with pytest.raises(CommandError, match="database error"):
        call_command("worker", "--once")
