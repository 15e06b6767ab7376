"""The rules an intake field may put on its values, as plain data (no Django): a number's range,
a date's window around today and its weekday, a text's pattern. It checks a rule's definition
(what a lead typed in the service editor) and a value against the rules (what a requester
typed), and says in words what to fix. The catalogue's model and intake form call it.

Patterns are RE2 (google-re2), not Python's ``re``: RE2 matches in time linear in the text, so
no pattern a lead writes can hang a server process on what a requester types. With ``re`` the
common "words" pattern ``(\\w+\\s?)+`` takes about 6 seconds on 27 characters (``"a" * 26 +
"!"``) and doubles with each one more; RE2 answers in microseconds. RE2 has no backreferences
and no lookarounds: a pattern using them is refused when the field is saved.
"""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import re2

MAX_DAYS = 36_600  # a hundred years either way: further is a typo, and beyond date's range
WEEKDAYS = tuple(calendar.day_name)  # Monday first, as date.weekday() counts

Problems = dict[str, list[str]]


@dataclass(frozen=True)
class Rules:
    min_value: Decimal | None = None
    max_value: Decimal | None = None
    days_past: int | None = None  # dates: at most this many days before today (0: not before)
    days_ahead: int | None = None  # dates: at most this many days after today (0: not after)
    weekday: int | None = None  # dates: the only weekday accepted, 0 Monday … 6 Sunday
    pattern: str = ""  # texts: the whole value matches this RE2 expression
    pattern_message: str = ""  # what the pattern asks for, in words


# --- the definition --------------------------------------------------------------------------


def _options() -> re2.Options:
    options = re2.Options()
    options.log_errors = False  # a bad pattern is the lead's typo, answered in words: not a log line
    return options


def compile_pattern(pattern: str) -> Any:
    """The compiled pattern; ``re2.error`` when RE2 cannot use it."""
    return re2.compile(pattern, options=_options())


def pattern_problem(pattern: str) -> str | None:
    try:
        compile_pattern(pattern)
    except re2.error as error:
        detail = error.args[0].decode() if error.args and isinstance(error.args[0], bytes) else str(error)
        return (
            f"The pattern cannot be used: {detail}. Write it as an RE2 regular expression (like "
            "Python's, without backreferences or lookarounds)."
        )
    return None


def definition_problems(rules: Rules) -> Problems:
    """What is wrong with the rules together, by rule. Each value's own range (days at least 0,
    a weekday 0–6, lengths) is its field's business; this checks what they mean together."""
    problems: Problems = {}
    low, high = rules.min_value, rules.max_value
    if low is not None and high is not None and low > high:
        problems["min_value"] = [
            f"The minimum {number(low)} is above the maximum {number(high)}: nothing could be "
            "entered. Correct one of them."
        ]
    if rules.pattern:
        problem = pattern_problem(rules.pattern)
        if problem:
            problems["pattern"] = [problem]
        if not rules.pattern_message.strip():
            problems["pattern_message"] = [
                "Say in words what the pattern asks for (e.g. \u201cW and six digits, like "
                "W104233\u201d): it is what a requester reads when a value does not match."
            ]
    elif rules.pattern_message.strip():
        problems["pattern_message"] = [
            "There is no pattern for this message to explain: write the pattern, or clear the "
            "message."
        ]
    return problems


# --- the values ----------------------------------------------------------------------------


def number(value: Decimal) -> str:
    """A limit as people write it: 150, 0.5, -3 (not 1.5E+2 or 0.5000)."""
    return format(value.normalize(), "f")


def day(value: date) -> str:
    return f"{value.day} {value:%b %Y}"


def window(today: date, rules: Rules) -> tuple[date | None, date | None]:
    """The earliest and latest dates accepted today (None: no limit that way)."""
    earliest = today - timedelta(days=rules.days_past) if rules.days_past is not None else None
    latest = today + timedelta(days=rules.days_ahead) if rules.days_ahead is not None else None
    return earliest, latest


def number_problems(value: Decimal, rules: Rules) -> list[str]:
    low, high = rules.min_value, rules.max_value
    if (low is None or value >= low) and (high is None or value <= high):
        return []
    if low is not None and high is not None:
        return [f"Enter a number from {number(low)} to {number(high)}."]
    if low is not None:
        return [f"Enter a number of at least {number(low)}."]
    assert high is not None
    return [f"Enter a number of at most {number(high)}."]


def date_problems(value: date, today: date, rules: Rules) -> list[str]:
    problems = []
    earliest, latest = window(today, rules)
    if earliest is not None and value < earliest:
        problems.append(
            f"Give a date from {day(earliest)} on: not in the past."
            if rules.days_past == 0
            else f"Give a date from {day(earliest)} on: at most {_days(rules.days_past)} ago."
        )
    if latest is not None and value > latest:
        problems.append(
            f"Give a date up to {day(latest)}: not in the future."
            if rules.days_ahead == 0
            else f"Give a date up to {day(latest)}: at most {_days(rules.days_ahead)} ahead."
        )
    if rules.weekday is not None and value.weekday() != rules.weekday:
        problems.append(f"Give a {WEEKDAYS[rules.weekday]}: {day(value)} is a {WEEKDAYS[value.weekday()]}.")
    return problems


def text_problems(value: str, rules: Rules) -> list[str]:
    if not rules.pattern or compile_pattern(rules.pattern).fullmatch(value):
        return []
    return [rules.pattern_message]


def _days(n: int | None) -> str:
    return f"{n} day{'' if n == 1 else 's'}"


def describe(rules: Rules) -> str:
    """The rules in a few words for the form's help: "From 0 to 100.", "A Sunday, at most 14
    days ago.", or the pattern's message."""
    low, high = rules.min_value, rules.max_value
    parts = []
    if low is not None and high is not None:
        parts.append(f"from {number(low)} to {number(high)}")
    elif low is not None:
        parts.append(f"at least {number(low)}")
    elif high is not None:
        parts.append(f"at most {number(high)}")
    if rules.weekday is not None:
        parts.append(f"a {WEEKDAYS[rules.weekday]}")
    if rules.days_past is not None:
        parts.append("not in the past" if rules.days_past == 0 else f"at most {_days(rules.days_past)} ago")
    if rules.days_ahead is not None:
        parts.append(
            "not in the future" if rules.days_ahead == 0 else f"at most {_days(rules.days_ahead)} ahead"
        )
    if rules.pattern:
        parts.append(rules.pattern_message.strip().rstrip("."))
    text = ", ".join(parts)
    return f"{text[:1].upper()}{text[1:]}." if text else ""
