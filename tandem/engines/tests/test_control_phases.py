"""Control charts (run rules) and the split of a request's time into phases."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from tandem.engines.evidence.control import xmr
from tandem.engines.evidence.phases import PHASES, band_index, bands, phase_of, phase_seconds
from tandem.engines.worktime import CalendarSpec, WorkingCalendar, to_epoch

CYCLE = [2.0, 2.3, 1.8, 2.2, 1.9, 2.1, 1.7, 2.05]  # ups and downs, never eight on one side


def noise(n: int, offset: float = 0.0) -> list[float]:
    return [CYCLE[i % len(CYCLE)] + offset for i in range(n)]


def test_noise_is_within_noise_and_one_bad_week_is_a_one_off() -> None:
    assert xmr(noise(26)).verdict == "within noise"
    values = noise(26)
    values[15] = 9.0
    chart = xmr(values)
    assert not chart.changed and chart.outside == [15] and chart.signal_at(15) == "outside"
    assert "one-off" in chart.verdict


def test_eight_weeks_on_one_side_is_a_shift_dated_from_its_first_week() -> None:
    values = noise(13) + noise(10, offset=1.0)  # week 13 (index 12) is a low one
    chart = xmr(values)
    assert chart.shift_from == 13 and chart.shift_direction == "up" and chart.changed
    assert chart.verdict == "sustained shift up since point 14" and chart.signal_at(14) == "shift"
    assert chart.signal_at(12) == ""


def test_a_good_week_after_a_shift_does_not_undo_it() -> None:
    values = noise(11) + [3.5] * 9 + [2.0] + [3.5] * 3  # index 10 is a low week
    assert xmr(values).shift_from == 11 and xmr(values).signal_at(20) == "shift"


def test_seven_rising_weeks_are_a_trend_six_are_not() -> None:
    flat = [2.1, 2.0] * 5  # ends on a low week: the climb starts there (index 9)
    assert xmr([*flat, 2.02, 2.04, 2.06, 2.08, 2.1, 2.12, 2.0]).trend_from == 9
    assert xmr([*flat, 2.02, 2.04, 2.06, 2.08, 2.1, 2.0]).trend_from is None


def test_gaps_are_skipped_and_too_little_data_is_refused() -> None:
    chart = xmr([2.0, None, 2.1, 2.0, None, 1.9])
    assert chart.values[1] is None and chart.verdict == "within noise"
    with pytest.raises(ValueError, match="at least two"):
        xmr([None, 3.0, None])


CAL = WorkingCalendar.of(CalendarSpec.create(tz="UTC", weekly={d: [("09:00", "17:00")] for d in range(5)}))


def t(day: int, hour: int, minute: int = 0) -> int:
    return to_epoch(datetime(2026, 11, day, hour, minute, tzinfo=UTC))  # 2 Nov 2026 is a Monday


def test_each_status_opens_a_phase_that_runs_in_working_time_until_the_next() -> None:
    statuses = ["new", "in_progress", "waiting_requester", "in_progress", "resolved", "reopened", "in_progress",
                "resolved"]
    at = [t(2, 9), t(2, 10), t(2, 12), t(3, 9), t(3, 11), t(4, 9), t(4, 10), t(4, 10, 30)]
    out = phase_seconds([0] * len(at), at, phase_of(statuses), [t(4, 10, 30)], [CAL], [0])
    hours = dict(zip(PHASES, out[0] / 3600, strict=True))
    # queued 1 h + 1 h after the reopen; in progress 2 + 2 + 0.5; waiting Mon 12:00 → Tue 09:00 = 5 h;
    # resolved Tue 11:00 → reopened Wed 09:00 counts nowhere.
    assert hours == {"queued": 2.0, "in_progress": 4.5, "waiting_requester": 5.0, "waiting_third_party": 0.0,
                     "waiting_team": 0.0, "waiting_approval": 0.0}


def test_bands_follow_the_articles_working_day_bands() -> None:
    assert band_index([0.5, 3.0, 3.2, 6.0, 7.0, 15.0, 16.0, 30.0, 31.0]).tolist() == [0, 0, 1, 1, 2, 2, 3, 3, 4]
    assert bands([1, 2, 40]).tolist() == [2, 0, 0, 0, 1]
