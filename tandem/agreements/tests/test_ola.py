"""Internal legs (OLAs): the coverage check on concrete numbers, pure and through the database."""

from __future__ import annotations

import pytest

from tandem.agreements import actions as agreements
from tandem.agreements.queries import coverage
from tandem.catalogue.models import Service
from tandem.engines.agreements.legs import check_coverage, minutes_words, parse_duration
from tests.cast import Cast

DAY = 8 * 3600
H = 3600


def test_it_warns_with_the_numbers_when_the_legs_and_margin_exceed_the_promise() -> None:
    result = check_coverage(3 * DAY, [("Payroll", 2 * DAY), ("Timesheets", DAY + 4 * H)], 2 * H, DAY)
    assert (result.total, result.shortfall, result.ok) == (3 * DAY + 6 * H, 6 * H, False)
    assert result.message == (
        "The customer is promised 3 working days, but Payroll 2 d + Timesheets 1 d 4 h + margin 2 h = 3 d 6 h: 6 h short."
    )


def test_it_is_covered_when_the_sum_fits_and_the_margin_can_tip_it_over() -> None:
    fits = check_coverage(3 * DAY, [("Payroll", 2 * DAY), ("Timesheets", 6 * H)], 2 * H, DAY)
    assert fits.ok and fits.total == 3 * DAY and fits.spare == 0
    assert fits.message.startswith("Covered: Payroll 2 d + Timesheets 6 h + margin 2 h = 3 d")
    over = check_coverage(3 * DAY, [("Payroll", 2 * DAY), ("Timesheets", 6 * H)], 3 * H, DAY)
    assert not over.ok and over.shortfall == H


@pytest.mark.parametrize(
    ("text", "minutes"), [("4h", 240), ("3d", 3 * 480), ("1d 4h", 720), ("90", 90), ("2 h 30 m", 150), ("45m", 45)]
)
def test_it_reads_durations_in_working_time(text: str, minutes: int) -> None:
    assert parse_duration(text, DAY, "resolution") == minutes
    assert parse_duration(minutes_words(minutes, DAY), DAY) == minutes


@pytest.mark.parametrize("text", ["0", "-3", "abc", "4x", "1d 1d", "0.5m", "", "0h", "9999999"])
def test_it_refuses_zero_negative_and_garbage_durations_naming_the_field(text: str) -> None:
    with pytest.raises(ValueError, match=r"^resolution: "):
        parse_duration(text, DAY, "resolution")


@pytest.mark.django_db
def test_each_leg_is_the_agreement_that_governs_the_service_for_the_front_unit(cast: Cast) -> None:
    # Default calendar: a working day is 7 h 30 m. Timesheet has a Leeds/external agreement;
    # Pay rate has none, so its leg is its published turnaround (3 working days).
    pay_rate = Service.objects.create(
        unit=cast.payroll, name="Pay rate", slug="pay-rate", summary="s", owner=cast.payroll_lead, turnaround_days=3
    )
    agreements.define_agreement(
        cast.payroll_lead, cast.timesheet, name="General", first_response_minutes=60, resolution_minutes=900
    )
    agreements.define_agreement(
        cast.payroll_lead,
        cast.timesheet,
        name="Leeds customers",
        first_response_minutes=30,
        resolution_minutes=450,
        requesting_unit=cast.leeds,
        channel="external",
    )
    promise = agreements.define_customer_agreement(
        cast.admin,
        cast.leeds,
        name="Payslip fix",
        resolution_minutes=5 * 450,
        margin_minutes=60,
        services=[cast.timesheet, pay_rate],
    )
    result = coverage(promise)
    assert [(leg.service, leg.target) for leg in result.legs] == [
        ("Pay rate", 3 * 27000),
        ("Timesheet correction", 27000),
    ]
    assert result.ok and result.total == 4 * 27000 + 3600 and result.spare == 27000 - 3600
    york = agreements.define_customer_agreement(
        cast.admin,
        cast.york,
        name="York",
        resolution_minutes=4 * 450,
        margin_minutes=30,
        services=[cast.timesheet, pay_rate],
    )
    short = coverage(york)  # York gets the general 900 minutes for the timesheet leg
    assert short.total == (3 * 450 + 900 + 30) * 60 and short.shortfall == (900 + 30 - 450) * 60
    assert short.message == (
        "The customer is promised 4 working days, but Pay rate 3 d + Timesheet correction 2 d + margin 30 m = 5 d 30 m: 1 d 30 m short."
    )
