"""Single sign-on: each organisation may sign its people in through its own OpenID Connect
provider (docs/sign-in.md).

The protocol is mozilla-django-oidc's (authorisation code with PKCE, state and nonce, the ID
token's signature checked against the provider's published keys); what it cannot know is which
provider: it reads one from the settings, Tandem has one per organisation. So the start view
ties the provider to the state it sends, the callback finds the provider by that state, and the
backend checks the token came from that provider's issuer for that client before matching the
person, only ever inside that provider's organisation.
"""

from __future__ import annotations

import logging
import time
from typing import Any
from urllib.parse import parse_qs, urlencode, urlparse

import requests
from django.contrib.auth import get_user_model
from django.core.exceptions import SuspiciousOperation
from django.db.models import Q
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.text import slugify
from django.views import View
from mozilla_django_oidc.auth import OIDCAuthenticationBackend
from mozilla_django_oidc.views import OIDCAuthenticationCallbackView, OIDCAuthenticationRequestView

from tandem.isolation import provider_context
from tandem.org.models import IdentityProvider, Organisation, Person, Role, SignInIdentity
from tandem.outbox.actions import action_transaction
from tandem.refusal import Forbidden, Invalid, Refused

LOG = logging.getLogger(__name__)
STATES = "sso_states"  # session: state -> the provider it was sent to
DISCOVERY_TIMEOUT_S = 10
CLOCK_SKEW_S = 120


# --- configuring a provider ----------------------------------------------------------------


def discover(issuer: str) -> dict[str, str]:
    """The endpoints of an issuer, from its discovery document; ``Invalid`` naming what is wrong."""
    issuer = issuer.rstrip("/")
    url = f"{issuer}/.well-known/openid-configuration"
    try:
        response = requests.get(url, timeout=DISCOVERY_TIMEOUT_S)
        response.raise_for_status()
        document = response.json()
    except (requests.RequestException, ValueError) as error:
        raise Invalid(f"Could not read {url}: {error}. Check the issuer's address.",
                      errors={"issuer": [f"No discovery document at {url}."]}) from None
    named = str(document.get("issuer", "")).rstrip("/")
    if named != issuer:
        raise Invalid(f"The discovery document names its issuer {named or 'nothing'}, not {issuer}.",
                      errors={"issuer": [f"The provider calls itself {named or 'nothing'}: use exactly that."]})
    endpoints = {key: str(document.get(key, "")) for key in
                 ("authorization_endpoint", "token_endpoint", "userinfo_endpoint", "jwks_uri")}
    missing = [key for key, value in endpoints.items() if not value]
    if missing:
        raise Invalid(f"The discovery document has no {', '.join(missing)}.", errors={"issuer": [
            f"The provider publishes no {', '.join(missing)}: it cannot sign people in here."]})
    return endpoints


def provider_for_email(email: str) -> IdentityProvider | None:
    """Home realm discovery: the enabled provider that signs in addresses at this domain."""
    domain = email.rpartition("@")[2].strip().lower()
    if not domain:
        return None
    for provider in IdentityProvider.objects.filter(enabled=True, email_domains__icontains=domain):
        if domain in provider.domains():
            return provider
    return None


# --- matching the person -------------------------------------------------------------------


def password_refusal(user: Any) -> str | None:
    """Why this account may not sign in with a password: its organisation switched local
    passwords off (administrators keep theirs, so that a broken provider never locks everybody out).
    Read as the provider: asked before anybody is signed in (the admin's sign-in page too), it
    must find the person whatever the page's context, or it would let the password through."""
    with provider_context():
        person = Person.objects.select_related("unit__organisation").filter(user=user).first()
    if person is None or person.role == Role.ADMIN or user.is_superuser:
        return None
    organisation = person.unit.organisation
    if organisation is None or organisation.local_passwords:
        return None
    return (f"{organisation} signs its people in through its own account: choose \"Sign in with your "
            "organisation\" below.")


def _in_organisation(organisation: Organisation) -> Q:
    return Q(unit__organisation=organisation)


def sign_in_through(provider: IdentityProvider, claims: dict[str, Any]) -> Person:
    """The person a provider vouches for: known by its subject, else matched by email inside the
    provider's organisation (then remembered), else added to its new-accounts unit when it has
    one. ``Forbidden`` for anybody the provider may not sign in."""
    subject = str(claims.get("sub", ""))
    email = str(claims.get("email", "")).strip()
    organisation = provider.organisation
    if not subject:
        raise Invalid("The identity provider sent no subject: ask your administrator to check its set-up.")
    with action_transaction():
        known = (SignInIdentity.objects.select_related("person__user", "person__unit")
                 .select_for_update().filter(provider=provider, subject=subject).first())
        if known is not None:
            person = known.person
            if person.unit.organisation_id != organisation.pk:
                raise Forbidden(f"Your account is no longer part of {organisation}: ask your administrator.")
            known.last_at = timezone.now()
            known.save(update_fields=["last_at"])
        else:
            person = _match_or_add(provider, subject, email, claims)
        if not person.user.is_active:
            raise Forbidden("Your Tandem account is switched off: ask your administrator.")
        return person


def _match_or_add(provider: IdentityProvider, subject: str, email: str, claims: dict[str, Any]) -> Person:
    organisation = provider.organisation
    if not email or claims.get("email_verified") is False:
        raise Forbidden(f"{organisation}'s sign-in did not vouch for an email address, so Tandem cannot tell "
                        "who you are: ask your administrator.")
    people = Person.objects.select_related("user", "unit").filter(user__email__iexact=email)
    person = people.filter(_in_organisation(organisation)).first()
    if person is None and people.exists():
        # The same answer whatever the other organisation is: its name is not this one's to read.
        raise Forbidden(f"{email} has a Tandem account that {organisation}'s sign-in does not cover: sign in "
                        "the way that account's organisation does.")
    if person is None:
        unit = provider.new_accounts_unit
        if unit is None or unit.organisation_id != organisation.pk:
            raise Forbidden(f"There is no Tandem account for {email} in {organisation}: ask your administrator "
                            "to add you.")
        person = _add_person(unit, email, claims)
    SignInIdentity.objects.create(provider=provider, subject=subject, person=person)
    return person


def _add_person(unit: Any, email: str, claims: dict[str, Any]) -> Person:
    users = get_user_model().objects
    base = slugify(email.partition("@")[0]).replace("-", ".")[:140] or "person"
    username, n = base, 1
    while users.filter(username=username).exists():
        n += 1
        username = f"{base}{n}"
    user = users.create(username=username, email=email, first_name=str(claims.get("given_name", ""))[:150],
                        last_name=str(claims.get("family_name", ""))[:150], is_active=True)
    user.set_unusable_password()
    user.save(update_fields=["password"])
    return Person.objects.create(user=user, unit=unit, role=Role.MEMBER)


# --- the protocol (mozilla-django-oidc), one provider per organisation --------------------


def _provider_of_state(request: HttpRequest, state: str) -> IdentityProvider | None:
    pk = request.session.get(STATES, {}).get(state)
    return IdentityProvider.objects.select_related("organisation").filter(pk=pk, enabled=True).first()


class OrganisationSignIn(OIDCAuthenticationBackend):
    """The code flow's backend with the provider of the state the callback carries."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:  # the settings name no provider: each request does
        self.UserModel = get_user_model()
        self.provider: IdentityProvider | None = None

    def authenticate(self, request: HttpRequest | None, **kwargs: Any) -> Any:  # type: ignore[override]
        if request is None or "code" not in request.GET or "state" not in request.GET:
            return None
        self.provider = _provider_of_state(request, request.GET["state"])
        if self.provider is None:
            request.sso_refusal = "The sign-in came back for no organisation known here: start again."  # type: ignore[attr-defined]
            return None
        p = self.provider
        self.OIDC_OP_TOKEN_ENDPOINT, self.OIDC_OP_USER_ENDPOINT = p.token_endpoint, p.userinfo_endpoint
        self.OIDC_OP_JWKS_ENDPOINT, self.OIDC_RP_SIGN_ALGO = p.jwks_uri, "RS256"
        self.OIDC_RP_CLIENT_ID, self.OIDC_RP_CLIENT_SECRET = p.client_id, p.client_secret
        self.OIDC_RP_IDP_SIGN_KEY = None
        try:
            return super().authenticate(request, **kwargs)
        except (requests.RequestException, SuspiciousOperation) as error:
            LOG.warning("sign-in through %s refused: %s", p.issuer, error)
            request.sso_refusal = (  # type: ignore[attr-defined]
                f"{p.organisation}'s sign-in could not be completed ({error}). Start again; if it happens again, "
                "tell your administrator.")
            return None

    def verify_token(self, token: str, **kwargs: Any) -> dict[str, Any]:
        """The signature and nonce (the library), then what it leaves out: the token was issued by
        this organisation's provider, to this client, and has not expired."""
        payload: dict[str, Any] = super().verify_token(token, **kwargs)
        assert self.provider is not None
        issuer = str(payload.get("iss", "")).rstrip("/")
        if issuer != self.provider.issuer.rstrip("/"):
            raise SuspiciousOperation(f"the token was issued by {issuer or 'nobody'}, not by {self.provider.issuer}")
        audience = payload.get("aud")
        if self.provider.client_id not in (audience if isinstance(audience, list) else [audience]):
            raise SuspiciousOperation("the token was issued to another client")
        if float(payload.get("exp", 0)) < time.time() - CLOCK_SKEW_S:
            raise SuspiciousOperation("the token has expired")
        return payload

    def get_or_create_user(self, access_token: str, id_token: str, payload: dict[str, Any]) -> Any:
        assert self.provider is not None
        claims = {**payload, **self.get_userinfo(access_token, id_token, payload)}
        if claims.get("sub") != payload.get("sub"):
            raise SuspiciousOperation("the user information is about somebody else than the token")
        try:
            return sign_in_through(self.provider, claims).user
        except Refused as refusal:
            self.request.sso_refusal = refusal.message
            return None


class StartSignIn(OIDCAuthenticationRequestView):
    """Send the person to their organisation's provider, remembering which provider the state is for."""

    def __init__(self, **kwargs: Any) -> None:  # the provider is the URL's, not the settings'
        View.__init__(self, **kwargs)

    def get(self, request: HttpRequest, slug: str) -> HttpResponse:  # type: ignore[override]
        provider = (IdentityProvider.objects.select_related("organisation")
                    .filter(organisation__slug=slug, enabled=True).first())
        if provider is None:
            return refused_sign_in(request, "No organisation signs in that way here. Check the address, or sign "
                                            "in with your username and password.", status=404)
        self.provider = provider
        self.OIDC_OP_AUTH_ENDPOINT, self.OIDC_RP_CLIENT_ID = provider.authorization_endpoint, provider.client_id
        response = super().get(request)
        state = parse_qs(urlparse(response["Location"]).query)["state"][0]
        states = request.session.get(STATES, {})
        states[state] = provider.pk
        request.session[STATES] = dict(list(states.items())[-20:])  # a few open tabs, not an unbounded list
        return response

    def get_extra_params(self, request: HttpRequest) -> dict[str, str]:
        hint = request.session.get("sso_email", "")
        return {"login_hint": hint} if hint else {}


class FinishSignIn(OIDCAuthenticationCallbackView):
    """The provider's answer: signed in, or a page that says why not (never a bare 400 or 500)."""

    def get(self, request: HttpRequest) -> HttpResponse:  # type: ignore[override]
        try:
            return super().get(request)
        except SuspiciousOperation:
            return refused_sign_in(request, "This sign-in does not match one started here (it may have been "
                                            "started in another browser, or already used). Start again.", status=400)

    def login_failure(self) -> HttpResponse:
        error = self.request.GET.get("error")
        message = getattr(self.request, "sso_refusal", None) or (
            f"Your organisation's sign-in answered: {error[:80]}." if error else
            "The sign-in was not completed. Start again.")
        return refused_sign_in(self.request, message, status=403 if error or hasattr(self.request, "sso_refusal")
                               else 400)


def choose_provider(request: HttpRequest) -> HttpResponse:
    """Sign in with your organisation: a work address leads to its organisation's provider."""
    email = request.POST.get("email", "").strip()[:254] if request.method == "POST" else ""
    next_url = (request.POST if request.method == "POST" else request.GET).get("next", "")[:2000]
    if request.method != "POST":
        return render(request, "registration/sso.html", {"email": "", "next": next_url})
    provider = provider_for_email(email) if "@" in email else None
    if provider is None:
        message = ("Type your work email address, e.g. name@example.com." if "@" not in email else
                   f"No organisation signs in with addresses at {email.rpartition('@')[2]} here: sign in with your "
                   "username and password, or ask your administrator.")
        return render(request, "registration/sso.html", {"email": email, "error": message, "next": next_url},
                      status=422)
    request.session["sso_email"] = email
    start = reverse("sso_start", args=[provider.organisation.slug])
    # A page that moves on by itself rather than a redirect: the policy "form-action 'self'"
    # forbids a form's answer to redirect to another site, and the provider is one.
    url = f"{start}?{urlencode({'next': next_url})}" if next_url else start
    return render(request, "registration/sso_continue.html", {"url": url, "organisation": provider.organisation})


def refused_sign_in(request: HttpRequest, message: str, *, status: int) -> HttpResponse:
    return render(request, "registration/sso_refused.html", {"message": message}, status=status)
