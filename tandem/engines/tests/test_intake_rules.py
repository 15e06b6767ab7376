"""The rules on intake values, without a database: definitions, values, and the words for both."""

from __future__ import annotations

import time
from datetime import date, timedelta
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tandem.engines.intake_rules import (
    Rules,
    date_problems,
    definition_problems,
    describe,
    number_problems,
    text_problems,
    window,
)

TODAY = date(2026, 12, 7)  # a Monday
WEEK_ENDING = Rules(weekday=6, days_past=91, days_ahead=6)
RATE = Rules(min_value=Decimal("5.0000"), max_value=Decimal("150.0000"))
WORKER_ID = Rules(pattern=r"W\d{6}", pattern_message="W and six digits, like W104233.")


# --- definitions -----------------------------------------------------------------------------


def test_it_accepts_sound_definitions() -> None:
    for rules in (Rules(), WEEK_ENDING, RATE, WORKER_ID, Rules(min_value=Decimal(3), max_value=Decimal(3))):
        assert definition_problems(rules) == {}


def test_it_refuses_a_minimum_above_the_maximum() -> None:
    problems = definition_problems(Rules(min_value=Decimal("100.0000"), max_value=Decimal("0.0000")))
    assert problems == {
        "min_value": ["The minimum 100 is above the maximum 0: nothing could be entered. Correct one of them."]
    }


@pytest.mark.parametrize(
    "pattern, detail",
    [("[A-Z", "missing ]"), (r"(a)\1", "invalid escape sequence"), ("(?=W)W", "invalid perl operator"),
     ("a{2000}", "invalid repetition size")],
)
def test_it_refuses_a_pattern_re2_cannot_use_and_says_why(pattern: str, detail: str) -> None:
    problems = definition_problems(Rules(pattern=pattern, pattern_message="Anything"))
    assert list(problems) == ["pattern"]
    assert detail in problems["pattern"][0] and "RE2" in problems["pattern"][0]


def test_a_pattern_needs_its_message_and_a_message_its_pattern() -> None:
    assert "Say in words" in definition_problems(Rules(pattern=r"\d+", pattern_message="  "))["pattern_message"][0]
    assert "no pattern" in definition_problems(Rules(pattern_message="Digits only"))["pattern_message"][0]


# --- values ----------------------------------------------------------------------------------


def test_it_checks_a_number_against_its_range() -> None:
    assert number_problems(Decimal("-5"), RATE) == ["Enter a number from 5 to 150."]
    assert number_problems(Decimal("150.01"), RATE) == ["Enter a number from 5 to 150."]
    assert number_problems(Decimal("5"), RATE) == number_problems(Decimal("150"), RATE) == []
    assert number_problems(Decimal("99999"), Rules(max_value=Decimal(100))) == ["Enter a number of at most 100."]
    assert number_problems(Decimal("0"), Rules(min_value=Decimal("0.01"))) == [
        "Enter a number of at least 0.01."
    ]


def test_it_checks_a_date_against_its_window_and_weekday() -> None:
    last_sunday, next_sunday = date(2026, 12, 6), date(2026, 12, 13)
    assert window(TODAY, WEEK_ENDING) == (date(2026, 9, 7), next_sunday)
    assert date_problems(last_sunday, TODAY, WEEK_ENDING) == []
    assert date_problems(next_sunday, TODAY, WEEK_ENDING) == []
    assert date_problems(date(2026, 12, 4), TODAY, WEEK_ENDING) == ["Give a Sunday: 4 Dec 2026 is a Friday."]
    assert date_problems(date(2026, 12, 20), TODAY, WEEK_ENDING) == [
        "Give a date up to 13 Dec 2026: at most 6 days ahead."
    ]
    six_years_back = date(2020, 12, 7)
    assert date_problems(six_years_back, TODAY, Rules(days_past=92, days_ahead=365)) == [
        "Give a date from 6 Sep 2026 on: at most 92 days ago."
    ]
    assert date_problems(date(2026, 12, 6), TODAY, Rules(days_past=0)) == [
        "Give a date from 7 Dec 2026 on: not in the past."
    ]
    assert date_problems(date(2026, 12, 8), TODAY, Rules(days_ahead=0)) == [
        "Give a date up to 7 Dec 2026: not in the future."
    ]
    # Both wrong at once: both said, so that one correction is enough.
    assert len(date_problems(date(2026, 1, 2), TODAY, WEEK_ENDING)) == 2


@given(st.dates(min_value=date(2000, 1, 1), max_value=date(2099, 12, 31)), st.integers(0, 400),
       st.integers(0, 400), st.integers(-500, 500))
def test_a_date_passes_exactly_when_it_lies_in_the_window(
    today: date, past: int, ahead: int, offset: int
) -> None:
    value = today + timedelta(days=offset)
    rules = Rules(days_past=past, days_ahead=ahead)
    assert (date_problems(value, today, rules) == []) == (-past <= offset <= ahead)


def test_it_matches_the_whole_text_against_the_pattern() -> None:
    assert text_problems("W104233", WORKER_ID) == []
    for wrong in ("104233", "W10423", "W1042335", "xW104233"):
        assert text_problems(wrong, WORKER_ID) == ["W and six digits, like W104233."]


def test_a_pattern_that_backtracks_for_ever_in_python_answers_at_once() -> None:
    # With Python's re this takes about 6 s at 27 characters and doubles with each one more.
    words = Rules(pattern=r"(\w+\s?)+", pattern_message="Words only.")
    started = time.perf_counter()
    assert text_problems("a" * 2_000 + "!", words) == ["Words only."]
    assert time.perf_counter() - started < 1


def test_it_says_the_rules_in_a_few_words() -> None:
    assert describe(Rules()) == ""
    assert describe(RATE) == "From 5 to 150."
    assert describe(WEEK_ENDING) == "A Sunday, at most 91 days ago, at most 6 days ahead."
    assert describe(Rules(days_past=0, days_ahead=0)) == "Not in the past, not in the future."
    assert describe(WORKER_ID) == "W and six digits, like W104233."
