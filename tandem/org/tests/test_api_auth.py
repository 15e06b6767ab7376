"""API authentication: personal tokens, sessions with CSRF, and the `tandem createtoken` command."""

from __future__ import annotations

import io
import json
from datetime import timedelta

import pytest
from django.core.management import CommandError, call_command
from django.test import Client
from django.utils import timezone

from tandem.org.models import ApiToken, hash_token
from tandem.org.tokens import issue_token, revoke_token, user_for_token
from tandem.work.models import ServiceRequest
from tests.apiclient import ApiClient, token_for
from tests.cast import PASSWORD, Cast

pytestmark = pytest.mark.django_db


def refusal(response, status: int) -> dict:
    assert response.status_code == status, response.content
    body = response.json()
    assert set(body) == {"detail", "errors"}
    return body


def test_it_answers_401_without_credentials(cast: Cast) -> None:
    anonymous = ApiClient()
    for response in (
        anonymous.get("/api/me"),
        anonymous.get("/api/requests"),
        anonymous.post("/api/requests", {"service": "timesheet-correction"}),
    ):
        body = refusal(response, 401)
        assert "Bearer" in body["detail"] and response["WWW-Authenticate"].startswith("Bearer")
    assert ServiceRequest.objects.count() == 0


def test_it_answers_401_to_an_unknown_token(cast: Cast) -> None:
    body = refusal(ApiClient(token="tdm_not-a-real-token").get("/api/me"), 401)
    assert "unknown" in body["detail"] and "tandem createtoken" in body["detail"]


def test_it_answers_401_to_a_revoked_token(cast: Cast) -> None:
    issued = issue_token(cast.consultant.user, "laptop")
    revoke_token(cast.consultant.user, issued.token.pk)
    body = refusal(ApiClient(token=issued.raw).get("/api/me"), 401)
    assert "revoked" in body["detail"] and "POST /api/tokens" in body["detail"]


def test_it_answers_401_to_an_expired_token(cast: Cast) -> None:
    issued = issue_token(cast.consultant.user, "old script", expires_in_days=1)
    ApiToken.objects.filter(pk=issued.token.pk).update(
        expires_at=timezone.now() - timedelta(seconds=1)
    )
    body = refusal(
        ApiClient(token=issued.raw).post("/api/requests", {"service": "timesheet-correction"}), 401
    )
    assert "expired" in body["detail"]
    assert ServiceRequest.objects.count() == 0


def test_it_answers_401_to_a_token_of_a_deactivated_account(cast: Cast) -> None:
    raw = token_for(cast.consultant)
    cast.consultant.user.is_active = False
    cast.consultant.user.save()
    assert "deactivated" in refusal(ApiClient(token=raw).get("/api/me"), 401)["detail"]


def test_it_tells_who_i_am_with_a_token(cast: Cast) -> None:
    me = ApiClient(cast.payroll_agent).get("/api/me")
    assert me.status_code == 200
    body = me.json()
    assert body["id"] == cast.payroll_agent.pk and body["unit"]["slug"] == "payroll"
    assert body["role"] == "member" and [u["slug"] for u in body["work_units"]] == ["payroll"]
    assert ApiClient(cast.consultant).get("/api/me").json()["work_units"] == []


def test_it_records_token_use_at_most_once_a_minute(cast: Cast, django_assert_num_queries) -> None:
    raw = token_for(cast.consultant)
    api = ApiClient(token=raw)
    api.get("/api/me")
    first_use = ApiToken.objects.get(key_hash=hash_token(raw)).last_used_at
    assert first_use is not None
    with django_assert_num_queries(1):  # the look-up only: no write within the minute
        user_for_token(raw)
    later = first_use + timedelta(minutes=2)
    user_for_token(raw, now=later)
    assert ApiToken.objects.get(key_hash=hash_token(raw)).last_used_at == later


def test_it_stores_only_the_hash_of_a_token(cast: Cast) -> None:
    issued = issue_token(cast.consultant.user, "laptop")
    token = ApiToken.objects.get(pk=issued.token.pk)
    assert token.key_hash == hash_token(issued.raw) and issued.raw not in token.key_hash
    assert token.prefix == issued.raw[:8]


# --- tokens through the API --------------------------------------------------------------------


def signed_in(person, *, enforce_csrf: bool = False) -> Client:
    client = Client(enforce_csrf_checks=enforce_csrf)
    assert client.login(username=person.user.username, password=PASSWORD)
    return client


def test_it_issues_lists_and_revokes_tokens_through_a_session(cast: Cast) -> None:
    browser = signed_in(cast.consultant)
    created = browser.post(
        "/api/tokens",
        {"name": "export script", "expires_in_days": 30},
        content_type="application/json",
    )
    assert created.status_code == 201, created.json()
    raw = created.json()["token"]
    assert raw.startswith("tdm_") and created.json()["expires_at"].endswith("Z")
    # The new token works on its own.
    assert ApiClient(token=raw).get("/api/me").json()["id"] == cast.consultant.pk
    listed = browser.get("/api/tokens").json()["items"]
    assert [t["name"] for t in listed] == ["export script"]
    assert "token" not in listed[0] and "key_hash" not in listed[0] and listed[0]["active"] is True
    token_id = created.json()["id"]
    revoked = browser.delete(f"/api/tokens/{token_id}")
    assert revoked.status_code == 200 and revoked.json()["active"] is False
    refusal(ApiClient(token=raw).get("/api/me"), 401)
    refusal(browser.delete(f"/api/tokens/{token_id}"), 409)
    assert browser.get("/api/tokens", {"active": "true"}).json()["items"] == []


def test_it_issues_a_token_with_a_token_and_refuses_bad_token_input(cast: Cast) -> None:
    api = ApiClient(cast.consultant)
    assert api.post("/api/tokens", {"name": "second"}).status_code == 201
    assert set(refusal(api.post("/api/tokens", {"name": ""}), 422)["errors"]) == {"name"}
    assert set(
        refusal(api.post("/api/tokens", {"name": "x", "expires_in_days": 0}), 422)["errors"]
    ) == {"expires_in_days"}
    assert set(refusal(api.post("/api/tokens", {"name": "x", "scope": "all"}), 422)["errors"]) == {
        "scope"
    }


def test_it_does_not_let_anyone_revoke_someone_elses_token(cast: Cast) -> None:
    theirs = issue_token(cast.colleague.user, "theirs")
    refusal(ApiClient(cast.consultant).delete(f"/api/tokens/{theirs.token.pk}"), 404)
    assert ApiToken.objects.get(pk=theirs.token.pk).revoked_at is None


def test_it_requires_the_csrf_token_for_unsafe_session_requests(cast: Cast) -> None:
    browser = signed_in(cast.consultant, enforce_csrf=True)
    assert browser.get("/api/me").status_code == 200  # safe methods need no CSRF token
    body = refusal(browser.post("/api/tokens", {"name": "x"}, content_type="application/json"), 403)
    assert "CSRF" in body["detail"]
    csrf = browser.get("/accounts/login/").cookies["csrftoken"].value
    ok = browser.post(
        "/api/tokens", {"name": "x"}, content_type="application/json", headers={"X-CSRFToken": csrf}
    )
    assert ok.status_code == 201, ok.json()


def test_it_answers_403_to_an_account_without_a_staff_profile(db) -> None:
    from django.contrib.auth import get_user_model

    user = get_user_model().objects.create_user("robot", password="pw")
    raw = issue_token(user, "robot").raw
    body = refusal(ApiClient(token=raw).get("/api/me"), 403)
    assert "staff profile" in body["detail"]


# --- the command -------------------------------------------------------------------------------


def test_it_creates_a_token_from_the_command_line(cast: Cast) -> None:
    out, err = io.StringIO(), io.StringIO()
    call_command(
        "createtoken",
        "consultant",
        "--name",
        "cron job",
        "--expires-days",
        "7",
        stdout=out,
        stderr=err,
    )
    raw = out.getvalue().strip()
    assert raw.startswith("tdm_") and "shown only now" in err.getvalue()
    assert ApiClient(token=raw).get("/api/me").json()["id"] == cast.consultant.pk
    token = ApiToken.objects.get(key_hash=hash_token(raw))
    assert token.name == "cron job" and token.expires_at is not None


def test_it_prints_json_from_the_command_when_asked(cast: Cast) -> None:
    out = io.StringIO()
    call_command("createtoken", "consultant", "--name", "ci", "--json", stdout=out)
    data = json.loads(out.getvalue())
    assert (
        data["token"].startswith("tdm_")
        and data["expires_at"] is None
        and data["username"] == "consultant"
    )


def test_it_refuses_an_unknown_user_or_a_bad_expiry_on_the_command_line(cast: Cast) -> None:
    with pytest.raises(CommandError, match="no user 'nobody'"):
        call_command("createtoken", "nobody", "--name", "x")
    with pytest.raises(CommandError, match="1 to 3650 days"):
        call_command("createtoken", "consultant", "--name", "x", "--expires-days", "0")
    assert ApiToken.objects.count() == 0


def test_it_answers_json_404_for_an_unknown_endpoint(cast: Cast) -> None:
    body = refusal(ApiClient(cast.consultant).get("/api/nothing-here"), 404)
    assert "openapi.json" in body["detail"]
