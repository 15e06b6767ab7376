"""The API's contract as a whole: the OpenAPI document, and no bad input ever answers 5xx."""

from __future__ import annotations

import json
import re
from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from tandem.agreements.actions import define_agreement, define_customer_agreement
from tandem.changes.actions import AudienceIn, Draft, draft_change
from tandem.work import actions
from tests.apiclient import ApiClient
from tests.cast import TIMESHEET_OK, Cast

pytestmark = pytest.mark.django_db

EXPECTED_OPERATIONS = {
    "getMe",
    "listAttachments",
    "attachFiles",
    "downloadAttachment",
    "search",
    "listChanges",
    "draftChange",
    "getChange",
    "editChange",
    "openChangeConsultation",
    "publishChange",
    "moveChange",
    "cancelChange",
    "commentOnChange",
    "answerChangeComment",
    "acknowledgeChange",
    "changeAcknowledgements",
    "remindChangeAudience",
    "getChangeCalendar",
    "scheduleServiceEdit",
    "dropServiceEdit",
    "acceptStaging",
    "acceptBatch",
    "decideAdvice",
    "listUnits",
    "listTokens",
    "createToken",
    "revokeToken",
    "listServices",
    "getService",
    "listAgreements",
    "createAgreement",
    "getAgreement",
    "updateAgreement",
    "getCalendar",
    "setCalendar",
    "getServiceCalendar",
    "setServiceCalendar",
    "removeServiceCalendar",
    "listCustomerAgreements",
    "createCustomerAgreement",
    "getCustomerAgreement",
    "updateCustomerAgreement",
    "listRequests",
    "submitRequest",
    "getRequest",
    "listRequestEvents",
    "listComments",
    "addComment",
    "listTime",
    "logTime",
    "assignRequest",
    "unassignRequest",
    "startRequest",
    "askRequester",
    "provideInformation",
    "waitThirdParty",
    "waitOnTeam",
    "resumeRequest",
    "approveRequest",
    "listWaitingApprovals",
    "declineRequest",
    "resolveRequest",
    "acceptResolution",
    "reopenRequest",
    "cancelRequest",
    "acknowledgeAdvice",
    "listRequestSteps",
    "markStep",
    "listCases",
    "createCase",
    "getCase",
    "closeCase",
    "listNotifications",
    "markNotificationsRead",
    "setEmailNotifications",
    "listWebhookSubscribers",
    "addWebhookSubscriber",
    "listWebhookDeliveries",
    "replayWebhookDelivery",
    "replayFailedWebhooks",
    "rotateWebhookSecret",
    "createQuote",
    "getPromise",
    "getIntegrityReport",
    "getEvidence",
    "getFlow",
    "getConformance",
    "getCapacity",
    "getProductivity",
    "getAttainment",
    "proposePlan",
    "getLatestPlan",
    "acceptPlan",
    "setAllocationMode",
    "takeNext",
    "listLoans",
    "listQueueJumps",
    "getDemandPlan",
    "getDemandOverview",
    "getDeclaredDemand",
    "declareDemandWeek",
    "getPayReport",
    "listPaySnapshots",
    "importPaySnapshot",
    "listPayRows",
    "explainPayGap",
    "listLoanCandidates",
    "listLoanSuggestions",
    "listWeekLoanProposals",
    "askForProposedLoan",
    "proposeLoan",
    "agreeLoan",
    "endLoan",
    "listPulseQuestions",
    "answerPulse",
    "getPulseResults",
    "getServiceReview",
    "listClients",
    "createClient",
    "getClient",
    "createClientContract",
    "endClientContract",
    "rateRequest",
    "answerRating",
    "rateAsk",
    "listUnansweredFeedback",
    "getAskQuality",
    "transferOwnership",
    "setApproval",
    "recordReview",
    "listReviewsDue",
    "giveKudos",
    "listKudos",
    "registerGift",
    "listGifts",
}


def openapi() -> dict:
    response = Client().get("/api/openapi.json")
    assert response.status_code == 200
    return response.json()


def operations(document: dict) -> list[tuple[str, str, dict]]:
    return [
        (method.upper(), path, op)
        for path, ops in document["paths"].items()
        for method, op in ops.items()
    ]


def body_schema(op: dict) -> str:
    """The name of an operation's body schema (an optional body is `anyOf` it and null)."""
    schema = op["requestBody"]["content"]["application/json"]["schema"]
    refs = [schema] if "$ref" in schema else [s for s in schema["anyOf"] if "$ref" in s]
    return refs[0]["$ref"].rsplit("/", 1)[1]


def test_it_publishes_an_openapi_document_listing_every_operation() -> None:
    document = openapi()
    assert document["openapi"].startswith("3.") and document["info"]["title"] == "Tandem"
    ops = operations(document)
    ids = [op["operationId"] for _, _, op in ops]
    assert len(ids) == len(set(ids)) and set(ids) == EXPECTED_OPERATIONS
    schemes = document["components"]["securitySchemes"]
    assert {s["type"] for s in schemes.values()} == {"http", "apiKey"}
    for method, path, op in ops:
        assert path.startswith("/api/"), path
        assert op["summary"] and op.get("description"), (method, path)
        assert op.get("security"), (method, path)  # every operation needs credentials
        responses = op["responses"]
        assert "401" in responses or 401 in responses, (method, path)
        for code, response in responses.items():
            if int(code) >= 400:
                schema = response["content"]["application/json"]["schema"]
                assert schema == {"$ref": "#/components/schemas/ErrorOut"}, (method, path, code)
                assert response["description"] and response["description"][0].isupper()
        if method in {"POST", "PUT"} and "requestBody" in op:
            assert {"400", "422"} <= {str(c) for c in responses}, (method, path)
        if "{" in path:
            assert "404" in {str(c) for c in responses}, (method, path)


def test_it_resolves_every_schema_reference() -> None:
    document = openapi()
    text = json.dumps(document)
    for name in set(re.findall(r'"#/components/schemas/([^"]+)"', text)):
        assert name in document["components"]["schemas"], name


def test_no_two_schemas_share_a_name() -> None:
    """The document keys its schemas by class name: two classes of one name (each app has its
    own ``PlanOut`` or ``StepOut`` in mind) leave one of them described by the other's schema,
    and clients of the API validate its answers against the wrong one."""
    from ninja import Schema

    import tandem.site.api  # noqa: F401  (every router's schemas are defined once it is loaded)

    def subclasses(cls: type) -> set[type]:
        found: set[type] = set(cls.__subclasses__())
        for sub in list(found):
            found |= subclasses(sub)
        return found

    by_name: dict[str, set[str]] = {}
    for schema in subclasses(Schema):
        if schema.__module__.startswith("tandem."):
            by_name.setdefault(schema.__name__, set()).add(schema.__module__)
    assert {name: sorted(m) for name, m in by_name.items() if len(m) > 1} == {}


def test_it_refuses_unknown_fields_in_every_request_body_schema() -> None:
    document = openapi()
    # JSON bodies; the multipart bodies are file uploads (a pay snapshot, a comment's files), their
    # fields named by the form.
    bodies = [body_schema(op) for _, _, op in operations(document)
              if "application/json" in op.get("requestBody", {}).get("content", {})]
    uploads = [path for _, path, op in operations(document)
               if "multipart/form-data" in op.get("requestBody", {}).get("content", {})]
    assert bodies and sorted(uploads) == ["/api/pay/snapshots", "/api/requests/{request_id}/attachments"]
    for name in bodies:
        assert document["components"]["schemas"][name].get("additionalProperties") is False, name


def test_it_serves_the_interactive_documentation() -> None:
    response = Client().get("/api/docs")
    assert response.status_code == 200 and b"swagger" in response.content.lower()
    # From Tandem's own static files: the docs work without internet access.
    assert b"/static/ninja/swagger-ui-bundle.js" in response.content
    assert Client().get("/static/ninja/swagger-ui-bundle.js").status_code == 200


# --- no bad input ever answers 5xx -------------------------------------------------------------

HUGE = 2**70
BAD_BODIES: list[bytes] = [
    b"{",
    b"",
    b"null",
    b"[]",
    b'"text"',
    b"123",
    b"\xff\xfe\x00",
    b"[" * 100_000 + b"]" * 100_000,
    b'{"a": NaN}',
    json.dumps({"unexpected": True}).encode(),
]


def bad_values() -> list[object]:
    return [
        None,
        "",
        "   ",
        "x" * 1_000_000,
        -1,
        0,
        HUGE,
        1.5,
        True,
        [],
        {},
        ["a"],
        {"a": 1},
        "\u00e9\u20ac",
    ]


def fill_path(path: str, ids: dict[str, object]) -> str:
    return re.sub(r"\{(\w+)\}", lambda m: str(ids[m.group(1)]), path)


@pytest.fixture
def world(cast: Cast) -> dict:
    sr = actions.submit_request(cast.consultant, cast.timesheet, TIMESHEET_OK).request
    comment = actions.add_comment(cast.payroll_agent, sr.pk, "Read this", advice=True)
    case = actions.create_case(cast.consultant, customer_reference="A-1", title="Acme")
    agreement = define_agreement(
        cast.payroll_lead, cast.timesheet, name="General", first_response_minutes=60, resolution_minutes=900
    )
    promise = define_customer_agreement(
        cast.admin, cast.leeds, name="Leeds", resolution_minutes=1350, margin_minutes=60, services=[cast.timesheet]
    )
    change = draft_change(cast.payroll_lead, cast.payroll.pk, Draft(
        title="Cut-off moves", summary="Earlier cut-off.", why="Checks.", kind="process",
        effective_on=timezone.localdate() + timedelta(days=30), minutes=10, audiences=[AudienceIn("leeds")],
        services=["timesheet-correction"],
    ))
    return {
        "unit_slug": "payroll",
        "change_id": change.pk,
        "agreement_id": agreement.pk,
        "customer_agreement_id": promise.pk,
        "request_id": sr.pk,
        "comment_id": comment.pk,
        "file_id": 1,
        "subscriber_id": 1,
        "delivery_id": 1,
        "case_id": case.pk,
        "token_id": 1,
        "plan_id": 1,
        "loan_id": 1,
        "client_id": 1,
        "contract_id": 1,
        "week": "2000-01-03",
        "snapshot_id": 1,
        "slug": "timesheet-correction",
        "service": "timesheet-correction",
        "period_id": 1,
        "step_id": cast.timesheet.steps.values_list("pk", flat=True).first(),
    }


def test_it_never_answers_5xx_to_bad_input(cast: Cast, world: dict) -> None:
    document = openapi()
    schemas = document["components"]["schemas"]
    api = ApiClient(cast.payroll_lead)
    seen: list[tuple[str, str, int]] = []

    def check(response, method: str, url: str) -> None:
        seen.append((method, url, response.status_code))
        assert response.status_code < 500, (method, url, response.content[:300])
        if response.status_code >= 400:
            assert set(response.json()) == {"detail", "errors"}, (method, url)

    for method, path, op in operations(document):
        good_path = fill_path(path, world)
        # Path parameters that are not ids of anything.
        for wrong in ("0", "-1", "abc", str(HUGE), "%00", "9" * 30):
            url = re.sub(r"\{\w+\}", wrong, path)
            check(api.raw(method, url, b"{}"), method, url)
        # Query parameters of the wrong type or range.
        for param in op.get("parameters", []):
            if param["in"] != "query":
                continue
            for wrong in ("abc", "-1", str(HUGE), "", "%00", "\x00", "x" * 5000):
                url = f"{good_path}?{param['name']}={wrong}"
                check(api.client.generic(method, url), method, url)
        if "requestBody" not in op:
            continue
        for body in BAD_BODIES:
            check(api.raw(method, good_path, body), method, good_path)
        if "application/json" not in op["requestBody"]["content"]:
            continue  # a file upload: its bad files are tandem/pay/tests' (every one refused, nothing kept)
        # Each field of the body, set to each wrong value in turn.
        for field in schemas[body_schema(op)].get("properties", {}):
            for value in bad_values():
                check(api.raw(method, good_path, json.dumps({field: value})), method, good_path)
    assert len(seen) > 500


def test_it_never_answers_5xx_to_bad_intake_or_headers(cast: Cast) -> None:
    api = ApiClient(cast.consultant)
    wrong_intakes = (
        [
            {**TIMESHEET_OK, "hours": value}
            for value in ("1e999999", "NaN", "Infinity", "-0", "1" * 100, 1e308, -(2**80), "37,5")
        ]
        + [
            {**TIMESHEET_OK, "week_ending": value}
            for value in (
                "0000-01-01",
                "9999-12-31",
                "2026-1-1",
                "20261120",
                20261120,
                "2026-13-01",
                "x" * 10_000,
            )
        ]
        + [{**TIMESHEET_OK, "reason": value} for value in ("Other", "", "overtime", 1)]
        + [{"worker": "x" * 3000}, {}, {"": "x"}, {"x" * 10_000: "y"}]
    )
    for intake in wrong_intakes:
        response = api.post("/api/requests", {"service": "timesheet-correction", "intake": intake})
        assert response.status_code in (201, 422), (intake, response.content[:300])
    for key in ("", " ", "k" * 81, "\t"):
        response = api.post(
            "/api/requests",
            {"service": "timesheet-correction", "intake": TIMESHEET_OK},
            headers={"Idempotency-Key": key},
        )
        assert response.status_code in (201, 422), (key, response.content[:300])
    for header in (
        "Bearer",
        "Bearer ",
        "Basic abc",
        "bearer x y",
        "Token abc",
        "Bearer " + "x" * 10_000,
    ):
        response = Client(headers={"Authorization": header}).get("/api/me")
        assert response.status_code == 401, (header, response.content[:300])
