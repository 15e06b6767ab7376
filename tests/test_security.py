"""Hardening, generated from the URL configuration so that every new page is covered by itself:
security headers on every response, CSRF on every form, API tokens shown once."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver

from tandem.org.models import ApiToken
from tandem.site.security import PAGE_POLICY, style_hashes
from tests.cast import PASSWORD, Cast, build_cast

pytestmark = pytest.mark.django_db

TEMPLATES = Path(__file__).resolve().parent.parent / "tandem" / "templates"
# Django admin and the API have their own CSRF handling (and their own tests); everything else
# under the root URL configuration is a page.
NOT_PAGES = ("admin/", "api/")
SAMPLE = {"int": "1", "request": "1", "case": "1", "slug": "x", "str": "x", "path": "x", "uuid": "00000000-0000-0000-0000-000000000000"}


def routes(patterns: list | None = None, prefix: str = "", *, filled: bool = True) -> list[str]:
    """Every page route of the URL configuration as a concrete path, converters filled in (or,
    ``filled=False``, kept as they are: ``/requests/<int:pk>/``)."""
    found: list[str] = []
    for entry in get_resolver().url_patterns if patterns is None else patterns:
        route = prefix + str(entry.pattern)
        if route.startswith(NOT_PAGES):
            continue
        if isinstance(entry, URLResolver):
            found.extend(routes(entry.url_patterns, route, filled=filled))
        elif isinstance(entry, URLPattern):
            found.append("/" + (re.sub(r"<(?:(\w+):)?\w+>", lambda m: SAMPLE[m.group(1) or "str"], route)
                                if filled else route))
    return sorted(set(found))


PAGES = routes()


@pytest.fixture
def cast(db) -> Cast:
    return build_cast()


def test_it_finds_the_pages_in_the_url_configuration() -> None:
    # A guard on the generator itself: if it found nothing, every test below would pass vacuously.
    assert {"/", "/accounts/login/", "/manage/people/1/edit/", "/queue/"} <= set(PAGES) or len(PAGES) > 30
    assert len(PAGES) > 30 and not any(p.startswith(("/api/", "/admin/")) for p in PAGES)


def signed_in_admin(cast: Cast, *, enforce_csrf: bool = False) -> Client:
    client = Client(enforce_csrf_checks=enforce_csrf)
    assert client.login(username=cast.admin.user.username, password=PASSWORD)
    return client


HEADERS = {
    "Content-Security-Policy": None,
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
    "Permissions-Policy": None,
}


def assert_headers(response, path: str) -> None:
    for name, value in HEADERS.items():
        assert response.has_header(name), f"{path} ({response.status_code}) has no {name}"
        if value is not None:
            assert response[name] == value, f"{path}: {name}"
    policy = response["Content-Security-Policy"]
    assert "default-src 'self'" in policy and "script-src 'self';" in policy, path
    assert "frame-ancestors 'none'" in policy and "camera=()" in response["Permissions-Policy"]


def test_it_sends_the_security_headers_on_every_page(cast: Cast) -> None:
    client = signed_in_admin(cast)
    for path in PAGES:
        response = client.get(path)
        assert response.status_code < 500, path
        assert_headers(response, path)
        if path != "/accounts/logout/":
            assert "'unsafe-inline'" not in response["Content-Security-Policy"], path


@pytest.mark.parametrize(
    "path",
    ["/accounts/login/", "/api/openapi.json", "/api/docs", "/api/me", "/api/nowhere", "/admin/login/",
     "/static/tandem/tandem.css", "/no-such-page/"],
)
def test_it_sends_the_security_headers_to_anyone_anywhere(db, path: str) -> None:
    assert_headers(Client().get(path), path)


def test_it_allows_no_inline_script_or_style_in_the_templates() -> None:
    """The policy forbids them; the 500 page's one style block is allowed by its hash."""
    for template in TEMPLATES.rglob("*.html"):
        text = template.read_text(encoding="utf-8")
        assert not re.search(r"<script(?![^>]*\bsrc=)(?![^>]*application/json)", text), template
        assert not re.search(r"\sstyle=|\son[a-z]+=|javascript:|hx-on", text), template
        if template.name != "500.html":
            assert "<style" not in text, template
    for allowed in style_hashes((TEMPLATES / "500.html").read_text(encoding="utf-8")):
        assert allowed in PAGE_POLICY


def test_it_renders_the_csrf_token_in_every_post_form() -> None:
    for template in TEMPLATES.rglob("*.html"):
        text = template.read_text(encoding="utf-8")
        for form in re.findall(r"<form\b[^>]*>.*?</form>", text, flags=re.DOTALL | re.IGNORECASE):
            if re.search(r"method=[\"']?post", form, flags=re.IGNORECASE):
                assert "{% csrf_token %}" in form, f"{template.name}: {form[:120]}"


def test_it_refuses_every_post_without_a_csrf_token_signed_in(cast: Cast) -> None:
    client = signed_in_admin(cast, enforce_csrf=True)
    for path in PAGES:
        response = client.post(path, {"name": "x", "title": "x"})
        assert response.status_code == 403, f"POST {path} without a CSRF token answered {response.status_code}"
        assert b"CSRF" in response.content or b"csrf" in response.content, path
    assert "_auth_user_id" in client.session  # the refused logout did not sign out either


def test_it_refuses_every_post_without_a_csrf_token_anonymously(db) -> None:
    client = Client(enforce_csrf_checks=True)
    for path in PAGES:
        assert client.post(path, {}).status_code == 403, path


def test_it_accepts_a_post_with_the_csrf_token(cast: Cast) -> None:
    # The counter-proof: the 403s above are the CSRF check, not some other refusal.
    client = Client(enforce_csrf_checks=True)
    client.get("/accounts/login/")
    token = client.cookies["csrftoken"].value
    response = client.post(
        "/accounts/login/", {"username": "consultant", "password": PASSWORD, "csrfmiddlewaretoken": token}
    )
    assert response.status_code == 302


def test_it_shows_an_api_token_once_and_stores_only_its_hash(cast: Cast) -> None:
    client = Client()
    client.force_login(cast.admin.user)
    # The test client skips the CSRF check (as the session API's own tests prove it is made).
    created = client.post("/api/tokens", {"name": "export"}, content_type="application/json")
    assert created.status_code == 201, created.content
    raw = created.json()["token"]
    stored = ApiToken.objects.get(name="export")
    assert raw not in str(list(ApiToken.objects.values_list())) and stored.key_hash != raw
    listing = client.get("/api/tokens")
    assert listing.status_code == 200 and raw not in listing.content.decode()
    assert stored.key_hash not in listing.content.decode()
    cast.admin.user.is_staff = cast.admin.user.is_superuser = True
    cast.admin.user.save()
    admin_page = client.get(f"/admin/org/apitoken/{stored.pk}/change/").content.decode()
    assert stored.prefix in admin_page and raw not in admin_page and stored.key_hash not in admin_page
