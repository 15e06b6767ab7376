"""Security headers on every response: a content security policy and a permissions policy.

Django's own middleware already sends ``X-Content-Type-Options``, ``Referrer-Policy``,
``Cross-Origin-Opener-Policy`` (SecurityMiddleware) and ``X-Frame-Options: DENY``
(XFrameOptionsMiddleware, for views); Django 5.2 has no content security policy of its own.
This middleware sits above WhiteNoise, so static files carry the headers too.

The product's pages run no inline script and carry no inline style: scripts and stylesheets come
from ``/static/`` only. Two exceptions, each as narrow as it can be:

- the 500 page inlines its few style rules (it must render when nothing else works), so the
  policy allows exactly that block by its SHA-256;
- ``/api/docs`` (Swagger UI) and ``/admin/`` set inline styles from their own scripts and
  use ``data:`` images, so those two paths allow inline styles and ``data:`` images, but
  still no inline or foreign script.
"""

from __future__ import annotations

import base64
import hashlib
import re
from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse

ERROR_PAGE = settings.PACKAGE_DIR / "templates" / "500.html"


def style_hashes(template: str) -> list[str]:
    """CSP source expressions (``'sha256-...'``) for every ``<style>`` block of a template."""
    blocks = re.findall(r"<style>(.*?)</style>", template, flags=re.DOTALL)
    return [f"'sha256-{base64.b64encode(hashlib.sha256(b.encode()).digest()).decode()}'" for b in blocks]


def policy(*, style_src: str, img_src: str) -> str:
    return "; ".join(
        [
            "default-src 'self'",
            "script-src 'self'",
            f"style-src {style_src}",
            f"img-src {img_src}",
            "font-src 'self'",
            "connect-src 'self'",
            "object-src 'none'",
            "base-uri 'self'",
            "form-action 'self'",
            "frame-ancestors 'none'",
        ]
    )


PAGE_POLICY = policy(
    style_src=" ".join(["'self'", *style_hashes(ERROR_PAGE.read_text(encoding="utf-8"))]),
    img_src="'self'",
)
RELAXED_POLICY = policy(style_src="'self' 'unsafe-inline'", img_src="'self' data:")
RELAXED_PREFIXES = ("/api/docs", "/admin/")

PERMISSIONS_POLICY = ", ".join(
    f"{feature}=()"
    for feature in (
        "accelerometer", "autoplay", "camera", "display-capture", "geolocation", "gyroscope",
        "magnetometer", "microphone", "payment", "usb",
    )
)


class SecurityHeadersMiddleware:
    """Adds the headers unless the view set its own (a view may need a narrower policy)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        relaxed = request.path.startswith(RELAXED_PREFIXES)
        response.headers.setdefault("Content-Security-Policy", RELAXED_POLICY if relaxed else PAGE_POLICY)
        response.headers.setdefault("Permissions-Policy", PERMISSIONS_POLICY)
        # XFrameOptionsMiddleware sets this for views; static files (WhiteNoise answers before
        # it) get it here. A view exempted from it stays exempt.
        if not getattr(response, "xframe_options_exempt", False):
            response.headers.setdefault("X-Frame-Options", "DENY")
        return response
