"""The webhook tests run their receivers on 127.0.0.1, which Tandem refuses by default
(docs/webhooks.md): they allow private addresses, and the tests of the refusal turn it off."""

from __future__ import annotations

from typing import Any

import pytest


@pytest.fixture(autouse=True)
def private_receivers_allowed(settings: Any) -> None:
    settings.TANDEM_WEBHOOK_ALLOW_PRIVATE = True
