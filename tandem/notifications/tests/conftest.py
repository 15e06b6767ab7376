"""The webhook tests' receiver, on 127.0.0.1, which Tandem refuses by default (docs/webhooks.md):
the tests allow private addresses, and the tests of the refusal turn it off."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from tandem.notifications.tests.webhook_receiver import Receiver


@pytest.fixture(autouse=True)
def private_receivers_allowed(settings: Any) -> None:
    settings.TANDEM_WEBHOOK_ALLOW_PRIVATE = True


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    """A receiver on 127.0.0.1 answering 200 (set ``status`` to make it fail)."""
    r = Receiver()
    yield r
    r.close()
