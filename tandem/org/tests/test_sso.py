"""Single sign-on through a real OpenID Connect provider (tests/oidc_op, started as a server):
the code flow end to end, who is matched or added, and every refusal the issue names (an unknown
organisation, a token from another issuer, a state that does not match), each a page that says
why with nothing created."""

from __future__ import annotations

import html
import re
from urllib.parse import parse_qs, urlparse

import pytest
from django.contrib.auth import get_user_model
from django.test import Client

from tandem.org.models import IdentityProvider, Organisation, Person, Role, Side, SignInIdentity, Unit
from tandem.org.sso import discover
from tandem.refusal import Invalid
from tests.cast import PASSWORD, Cast, make_person
from tests.oidc import CALLBACK, Provider

pytestmark = pytest.mark.django_db


@pytest.fixture
def client_a(identity_provider: Provider, cast: Cast) -> IdentityProvider:
    organisation = Organisation.objects.create(name="Client A Recruitment", slug="client-a")
    branch = Unit.objects.create(name="Client A branch", slug="client-a-branch", side=Side.FRONT,
                                 organisation=organisation)
    ana = make_person("ana", branch)
    ana.user.email = "ana.client@client-a.test"
    ana.user.save()
    return IdentityProvider.objects.create(
        organisation=organisation, issuer=identity_provider.issuer, client_id="tandem",
        client_secret="tandem-secret", email_domains="client-a.test, @client-a.example",
        **discover(identity_provider.issuer))


def start(client: Client, email: str) -> str:
    """Type the address on the sign-in page; the URL of the provider's authorisation endpoint."""
    response = client.post("/accounts/sso/", {"email": email})
    assert response.status_code == 200, response.content.decode()[:500]
    onwards = re.search(r'content="0;url=([^"]+)"', response.content.decode())
    assert onwards is not None
    response = client.get(html.unescape(onwards.group(1)))
    assert response.status_code == 302
    return response["Location"]


def finish(client: Client, callback_url: str):
    assert callback_url.startswith(CALLBACK), callback_url
    parsed = urlparse(callback_url)
    return client.get(parsed.path, parse_qs(parsed.query))


def signed_in_as(client: Client) -> str | None:
    user_id = client.session.get("_auth_user_id")
    return get_user_model().objects.get(pk=user_id).username if user_id else None


def test_discovery_reads_the_endpoints_and_refuses_another_issuer(identity_provider: Provider) -> None:
    endpoints = discover(identity_provider.issuer + "/")
    assert endpoints["token_endpoint"].startswith(identity_provider.issuer)
    assert set(endpoints) == {"authorization_endpoint", "token_endpoint", "userinfo_endpoint", "jwks_uri"}
    with pytest.raises(Invalid, match=r"No discovery document|Could not read"):
        discover(identity_provider.base + "/nothing-here")
    with pytest.raises(Invalid, match="Could not read"):
        discover("http://127.0.0.1:9/o")


def test_a_person_signs_in_through_their_organisations_provider(
        identity_provider: Provider, client_a: IdentityProvider) -> None:
    client = Client()
    authorize = start(client, "Ana.Client@client-a.test")
    query = parse_qs(urlparse(authorize).query)
    assert authorize.startswith(client_a.authorization_endpoint)
    assert query["client_id"] == ["tandem"] and query["code_challenge_method"] == ["S256"]
    assert query["login_hint"] == ["Ana.Client@client-a.test"] and query["nonce"] and query["state"]
    response = finish(client, identity_provider.sign_in(authorize, "ana"))
    assert response.status_code == 302 and signed_in_as(client) == "ana"
    identity = SignInIdentity.objects.get()
    assert identity.person.user.username == "ana" and identity.provider == client_a
    # The next time the subject is known: matched by it, not added again.
    other = Client()
    finish(other, identity_provider.sign_in(start(other, "ana.client@client-a.test"), "ana"))
    assert signed_in_as(other) == "ana" and SignInIdentity.objects.count() == 1


def test_a_newcomer_is_added_only_where_the_organisation_says(
        identity_provider: Provider, client_a: IdentityProvider) -> None:
    client = Client()
    response = finish(client, identity_provider.sign_in(start(client, "newcomer@client-a.test"), "newcomer"))
    assert response.status_code == 403 and signed_in_as(client) is None
    assert "There is no Tandem account for newcomer@client-a.test in Client A Recruitment" in response.content.decode()
    assert not get_user_model().objects.filter(email="newcomer@client-a.test").exists()

    client_a.new_accounts_unit = Unit.objects.get(slug="client-a-branch")
    client_a.save()
    client = Client()
    response = finish(client, identity_provider.sign_in(start(client, "newcomer@client-a.test"), "newcomer"))
    assert response.status_code == 302 and signed_in_as(client) == "newcomer"
    person = Person.objects.get(user__email="newcomer@client-a.test")
    assert person.unit.slug == "client-a-branch" and person.role == Role.MEMBER
    assert (person.user.first_name, person.user.last_name) == ("Nia", "Newcomer")
    assert not person.user.has_usable_password()


def test_an_account_of_another_organisation_is_never_signed_in_through_this_one(
        identity_provider: Provider, client_a: IdentityProvider, cast: Cast) -> None:
    # bob.other@client-b.test is a Tandem account of the organisation running Tandem (Leeds branch).
    bob = make_person("bob", cast.leeds)
    bob.user.email = "bob.other@client-b.test"
    bob.user.save()
    client = Client()
    response = finish(client, identity_provider.sign_in(start(client, "ana.client@client-a.test"), "outsider"))
    assert response.status_code == 403 and signed_in_as(client) is None
    body = response.content.decode()
    assert "does not cover" in body and "Leeds" not in body
    assert not SignInIdentity.objects.exists()


def test_an_address_the_provider_does_not_vouch_for_is_refused(
        identity_provider: Provider, client_a: IdentityProvider) -> None:
    client = Client()
    response = finish(client, identity_provider.sign_in(start(client, "ana.client@client-a.test"), "unverified"))
    assert response.status_code == 403 and "did not vouch for an email address" in response.content.decode()
    assert signed_in_as(client) is None and not SignInIdentity.objects.exists()


def test_a_token_from_another_issuer_is_refused(identity_provider: Provider, client_a: IdentityProvider,
                                                cast: Cast) -> None:
    # Client B's provider names another issuer, but its endpoints answer with client A's tokens
    # (a mix-up): the token's issuer is not B's, so nobody is signed in.
    b = Organisation.objects.create(name="Client B Staffing", slug="client-b")
    IdentityProvider.objects.create(
        organisation=b, issuer=identity_provider.base + "/client-b", client_id="tandem",
        client_secret="tandem-secret", email_domains="client-b.test", **discover(identity_provider.issuer))
    client = Client()
    response = finish(client, identity_provider.sign_in(start(client, "bob.other@client-b.test"), "ana"))
    assert response.status_code == 403 and signed_in_as(client) is None
    assert "the token was issued by" in response.content.decode()
    assert not SignInIdentity.objects.exists()


def test_a_state_that_does_not_match_and_an_unknown_organisation_are_refused(
        identity_provider: Provider, client_a: IdentityProvider) -> None:
    client = Client()
    callback = identity_provider.sign_in(start(client, "ana.client@client-a.test"), "ana")
    # Another browser (no session) brings the same answer: not started here.
    stranger = Client()
    response = finish(stranger, callback)
    assert response.status_code in (400, 403) and signed_in_as(stranger) is None
    assert "Not signed in" in response.content.decode()
    # A forged state in the right browser.
    parsed = urlparse(callback)
    response = client.get(parsed.path, {"code": parse_qs(parsed.query)["code"][0], "state": "forged"})
    assert response.status_code == 400 and "does not match one started here" in response.content.decode()
    # The provider is switched off between the start and the answer: no organisation is known for it.
    client_a.enabled = False
    client_a.save()
    response = finish(client, callback)
    assert response.status_code == 403 and "no organisation known here" in response.content.decode()
    assert signed_in_as(client) is None and not SignInIdentity.objects.exists()
    # The provider's own refusal.
    response = client.get("/accounts/sso/callback/", {"error": "access_denied", "state": "x"})
    assert response.status_code == 403 and "access_denied" in response.content.decode()


def test_the_address_page_refuses_what_it_cannot_route_and_keeps_it(client_a: IdentityProvider) -> None:
    client = Client()
    response = client.post("/accounts/sso/", {"email": "someone@unknown.test"})
    assert response.status_code == 422
    body = response.content.decode()
    assert "No organisation signs in with addresses at unknown.test" in body and 'value="someone@unknown.test"' in body
    response = client.post("/accounts/sso/", {"email": "not an address"})
    assert response.status_code == 422 and "Type your work email address" in response.content.decode()
    assert client.get("/accounts/sso/no-such-organisation/").status_code == 404
    assert "On to Client A Recruitment" in client.post("/accounts/sso/", {"email": "x@client-a.example"}).content.decode()


def test_an_organisation_can_switch_local_passwords_off(client_a: IdentityProvider, cast: Cast) -> None:
    client = Client()
    assert client.login(username="ana", password=PASSWORD)
    client.logout()
    Organisation.objects.filter(slug="client-a").update(local_passwords=False)
    response = client.post("/accounts/login/", {"username": "ana", "password": PASSWORD})
    assert response.status_code == 200 and signed_in_as(client) is None
    assert "signs its people in through its own account" in response.content.decode()
    assert "case-sensitive" not in response.content.decode()
    # Administrators keep their passwords, and so does the organisation running Tandem.
    admin = make_person("client_admin", Unit.objects.get(slug="client-a-branch"), role=Role.ADMIN)
    assert admin and client.post("/accounts/login/", {"username": "client_admin", "password": PASSWORD}).status_code == 302
    assert Client().post("/accounts/login/", {"username": "consultant", "password": PASSWORD}).status_code == 302
