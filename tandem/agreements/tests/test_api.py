"""GET /api/agreements: published terms, for signed-in staff only."""

from __future__ import annotations

import pytest

from tandem.agreements import actions as agreements
from tests.apiclient import ApiClient
from tests.cast import Cast

pytestmark = pytest.mark.django_db(transaction=True)


def test_it_lists_agreements_by_service(cast: Cast) -> None:
    agreements.define_agreement(
        cast.payroll_lead, cast.timesheet, name="Leeds", first_response_minutes=30, resolution_minutes=450,
        requesting_unit=cast.leeds, target_percent=95,
    )
    body = ApiClient(cast.consultant).get("/api/agreements?service=timesheet-correction").json()
    [item] = body["items"]
    assert item["name"] == "Leeds" and item["requesting_unit"]["slug"] == "leeds"
    assert (item["resolution_minutes"], item["target_percent"]) == (450, 95.0)
    assert item["pause_statuses"] == ["waiting_requester"] and body["next_after"] is None
    assert ApiClient(cast.consultant).get("/api/agreements?service=grievance").json()["items"] == []
    assert ApiClient().get("/api/agreements").status_code == 401
