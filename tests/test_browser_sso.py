"""A person of a client organisation signs in through their organisation's own provider in a
real browser: Tandem's sign-in page, the provider's page (tests/oidc_op, a real server), and
back to Tandem signed in; then a refusal as the person sees it."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from tandem.org.models import IdentityProvider, Organisation, Side, Unit
from tandem.org.sso import discover
from tests.cast import build_cast, make_person
from tests.oidc import Provider
from tests.oidc_op import PASSWORD
from tests.test_browser_journey import RESULTS


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_sign_in_with_the_organisations_account(live_server, page: Page, identity_provider: Provider) -> None:
    identity_provider.allow(f"{live_server.url}/accounts/sso/callback/")
    build_cast()
    organisation = Organisation.objects.create(name="Client A Recruitment", slug="client-a", local_passwords=False)
    branch = Unit.objects.create(name="Client A branch", slug="client-a-branch", side=Side.FRONT,
                                 organisation=organisation)
    ana = make_person("ana", branch, first="Ana", last="Client")
    ana.user.email = "ana.client@client-a.test"
    ana.user.save()
    IdentityProvider.objects.create(organisation=organisation, issuer=identity_provider.issuer, client_id="tandem",
                                    client_secret="tandem-secret", email_domains="client-a.test",
                                    **discover(identity_provider.issuer))

    page.goto(f"{live_server.url}/accounts/login/")
    page.get_by_test_id("sso-link").click()
    page.get_by_label("Work email").fill("ana@nowhere.test")
    page.get_by_role("button", name="Continue").click()
    expect(page.get_by_test_id("sso-error")).to_contain_text("No organisation signs in with addresses at nowhere.test")
    expect(page.get_by_label("Work email")).to_have_value("ana@nowhere.test")
    page.get_by_label("Work email").fill("ana.client@client-a.test")
    page.get_by_role("button", name="Continue").click()
    expect(page.get_by_role("heading", name="Identity provider sign-in")).to_be_visible()
    page.get_by_label("Username").fill("ana")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in at the provider").click()
    expect(page.get_by_text("Ana Client").first).to_be_visible()
    RESULTS.mkdir(exist_ok=True)
    page.screenshot(path=str(RESULTS / "sso-signed-in.png"), full_page=True)

    # Local passwords are off for Client A: the password form says where to go instead.
    page.context.clear_cookies()
    page.goto(f"{live_server.url}/accounts/login/")
    page.get_by_label("Username").fill("ana")
    page.get_by_label("Password").fill("pw")
    page.get_by_role("button", name="Sign in", exact=True).click()
    expect(page.get_by_role("alert")).to_contain_text("Client A Recruitment signs its people in through its own account")
