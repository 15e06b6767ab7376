"""What the demo's requesters type: intake values, titles, case references, and the text of
questions, answers, resolutions and comments, chosen deterministically from each request's
random variant (so a rebuild with the same seed writes the same words).

Values are written the way ``tandem.work.actions.validate_intake`` stores them: numbers as
plain decimals without trailing zeros, dates as ISO dates, choices among the field's choices.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, timedelta
from decimal import Decimal
from typing import Any, TypeVar

from tandem.demo.services import DemoField, DemoService
from tandem.demo.texts import CLIENTS, FIRST_NAMES, LAST_NAMES, MANAGERS, STREETS, TOWNS, CaseKind

T = TypeVar("T")
MASK = (1 << 64) - 1
OPTIONAL_FILLED = 0.6  # share of optional fields a requester fills in


class Dice:
    """A tiny deterministic random source (SplitMix64): cheap to seed once per request."""

    def __init__(self, seed: int) -> None:
        self.state = (seed * 0x9E3779B97F4A7C15 + 0x632BE59BD9B4E019) & MASK

    def next(self) -> int:
        self.state = (self.state + 0x9E3779B97F4A7C15) & MASK
        z = self.state
        z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & MASK
        z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & MASK
        return z ^ (z >> 31)

    def below(self, n: int) -> int:
        return self.next() % n if n > 0 else 0

    def between(self, low: int, high: int) -> int:
        return low + self.below(high - low + 1)

    def pick(self, items: Sequence[Any]) -> Any:
        return items[self.below(len(items))]

    def chance(self, p: float) -> bool:
        return self.next() < p * 2**64


def _slug(name: str) -> str:
    return "".join(c for c in name.lower().replace("&", "and") if c.isalnum() or c == " ").replace(
        " ", ""
    )


def context(seed: int, staff: Sequence[str]) -> dict[str, str]:
    """The people and things one request (or one case) is about."""
    dice = Dice(seed)
    first, last = dice.pick(FIRST_NAMES), dice.pick(LAST_NAMES)
    client = dice.pick(CLIENTS)
    return {
        "worker": f"{first} {last}",
        "worker_first": first,
        "worker_last": last,
        "worker_id": f"W{dice.between(100000, 199999)}",
        "client": client,
        "client_code": "".join(word[0] for word in client.replace("&", "").split()).upper()[:4],
        "client_domain": f"{_slug(client)}.example",
        "invoice": f"INV-{dice.between(200000, 249999)}",
        "po": f"PO{dice.between(4000000, 4999999)}",
        "asset": f"LT-{dice.between(100, 899):04d}",
        "staff": dice.pick(staff),
        "staff_new": f"{dice.pick(FIRST_NAMES)} {dice.pick(LAST_NAMES)}",
        "number": f"{dice.between(10000, 99999)}",
    }


def _decimal(cents: int) -> str:
    return format((Decimal(cents) / 100).normalize(), "f")


def _range(spec: str) -> tuple[float, float]:
    low, high = spec.split("-")
    return float(low), float(high)


def value(field: DemoField, ctx: dict[str, str], dice: Dice, day: date) -> str:
    """One field's value, as validate_intake would store it."""
    sample, _, arg = field.sample.partition(":")
    if field.kind == "choice":
        return str(dice.pick(field.choices))
    if sample in ("worker", "worker_id", "client", "invoice", "po", "asset", "staff", "staff_new"):
        return ctx[sample]
    if sample == "week_ending":
        # The Sunday ending this pay week: today on a Sunday, else the last one.
        return (day - timedelta(days=(day.weekday() + 1) % 7)).isoformat()
    if sample == "past":
        return (day - timedelta(days=dice.between(0, int(arg)))).isoformat()
    if sample == "future":
        low, high = _range(arg)
        return (day + timedelta(days=dice.between(int(low), int(high)))).isoformat()
    if sample in ("money", "rate"):
        low, high = _range(arg)
        return _decimal(dice.between(int(low * 100), int(high * 100)))
    if sample == "hours":
        low, high = _range(arg)
        return _decimal(25 * dice.between(int(low * 4), int(high * 4)))
    if sample == "pick":
        return str(dice.pick(arg.split("|")))
    if sample == "long":
        return str(dice.pick(arg.split("|"))).format(**ctx)
    if sample == "file":
        return f"SharePoint/{arg}/{ctx['worker_last']}-{ctx['worker_first']}-{day:%Y%m%d}.pdf"
    if sample == "manager":
        return str(dice.pick(MANAGERS))
    if sample == "approver":
        first, last = dice.pick(FIRST_NAMES), dice.pick(LAST_NAMES)
        return f"{first} {last} <{first.lower()}.{_slug(last)}@{ctx['client_domain']}>"
    if sample == "client_email":
        return f"accounts@{ctx['client_domain']}"
    if sample == "referee":
        first, last, company = dice.pick(FIRST_NAMES), dice.pick(LAST_NAMES), dice.pick(CLIENTS)
        return f"{first} {last}, {company}, {first.lower()}.{_slug(last)}@{_slug(company)}.example"
    if sample == "address":
        town, postcode = dice.pick(TOWNS)
        return (
            f"{dice.between(1, 180)} {dice.pick(STREETS)}, {town} {postcode} {dice.between(1, 9)}QT"
        )
    if sample == "share_code":
        letters = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"
        code = "".join(letters[dice.below(len(letters))] for _ in range(9))
        return f"{code[:3]} {code[3:6]} {code[6:]}"
    if sample == "company_number":
        return f"{dice.between(1000000, 15999999):08d}"
    if sample == "phone":
        return f"07700 900{dice.between(0, 999):03d}"
    return ctx["worker"]


def intake(service: DemoService, ctx: dict[str, str], seed: int, day: date) -> dict[str, str]:
    dice = Dice(seed)
    values: dict[str, str] = {}
    for field in service.fields:
        filled = value(field, ctx, dice, day)
        if field.required or dice.chance(OPTIONAL_FILLED):
            values[field.key] = filled
    return values


def title(service: DemoService, ctx: dict[str, str], values: dict[str, str]) -> str:
    return service.title.format(**{**ctx, **values})[:200]


def case_texts(kind: CaseKind, ctx: dict[str, str]) -> tuple[str, str]:
    """(customer reference, title) of a customer matter."""
    return kind.reference.format(**ctx)[:80], kind.title.format(**ctx)[:200]


def pick(texts: Sequence[T], variant: int) -> T | str:
    """The variant-th text (round robin), or "" when there are none."""
    return texts[variant % len(texts)] if texts else ""
