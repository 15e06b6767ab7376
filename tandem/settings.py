"""Django settings, configured entirely from environment variables (see docs/configuration.md).

SQLite is the embedded default; setting ``TANDEM_DATABASE_URL`` to a ``postgres://`` URL
switches to PostgreSQL (psycopg 3).
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from urllib.parse import parse_qsl, unquote, urlsplit

from django.core.exceptions import ImproperlyConfigured

PACKAGE_DIR = Path(__file__).resolve().parent
DATA_DIR = Path(os.environ.get("TANDEM_DATA_DIR", Path.cwd() / "var")).resolve()

# "development" (the default: the demo, the tests, a laptop) or "production" (real data): in
# production the settings below refuse to load unless the deployment is safe, and the cookies,
# HSTS and the HTTPS redirect are switched on (docs/operations.md).
ENVIRONMENT = os.environ.get("TANDEM_ENV", "development").strip().lower()
if ENVIRONMENT not in ("development", "production"):
    raise ImproperlyConfigured(
        f"TANDEM_ENV is {ENVIRONMENT!r}: set it to 'production' for real data, or leave it unset (development)."
    )
PRODUCTION = ENVIRONMENT == "production"

DEBUG = os.environ.get("TANDEM_DEBUG", "") == "1"
# The fallback key is only good for the demo: production refuses it, `tandem check --deploy` too.
DEMO_SECRET_KEY = "insecure-demo-key-change-me-in-production-0123456789"
SECRET_KEY = os.environ.get("TANDEM_SECRET_KEY", "") or DEMO_SECRET_KEY
ALLOWED_HOSTS = [h.strip() for h in os.environ.get("TANDEM_ALLOWED_HOSTS", "*").split(",") if h.strip()]
CSRF_TRUSTED_ORIGINS = [o for o in os.environ.get("TANDEM_CSRF_TRUSTED_ORIGINS", "").split(",") if o]


def refuse_insecure_production() -> None:
    """Production must not start with a configuration that gives the data away: say which variable to set."""
    if DEBUG:
        raise ImproperlyConfigured(
            "TANDEM_DEBUG=1 is refused with TANDEM_ENV=production (debug pages show settings and data): "
            "unset TANDEM_DEBUG."
        )
    weak = len(SECRET_KEY) < 50 or len(set(SECRET_KEY)) < 5 or SECRET_KEY.startswith(("insecure", "django-insecure"))
    if weak or SECRET_KEY == DEMO_SECRET_KEY:
        raise ImproperlyConfigured(
            "TANDEM_SECRET_KEY must be set to a long random value (at least 50 characters) with "
            "TANDEM_ENV=production, e.g. from: python -c 'import secrets; print(secrets.token_urlsafe(50))'"
        )
    if not ALLOWED_HOSTS or "*" in ALLOWED_HOSTS:
        raise ImproperlyConfigured(
            "TANDEM_ALLOWED_HOSTS must list the host names you serve (comma-separated, no '*') with "
            "TANDEM_ENV=production, e.g. TANDEM_ALLOWED_HOSTS=tandem.example.com"
        )


if PRODUCTION:
    refuse_insecure_production()

SITE_URL = os.environ.get("TANDEM_SITE_URL", "http://127.0.0.1:8000")

INSTALLED_APPS = [
    "tandem.outbox",
    "tandem.org",
    "tandem.catalogue",
    "tandem.pay",
    "tandem.agreements",
    "tandem.work",
    "tandem.notifications",
    "tandem.insights",
    "tandem.promises",
    "tandem.demand",
    "tandem.changes",
    "tandem.mail",
    "tandem.search",
    "tandem.allocation",
    "tandem.voice",
    "tandem.site",
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django_htmx",
    # Only for /api/docs: serves Swagger UI from ninja's own static files, not from a CDN.
    "ninja",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "tandem.site.security.SecurityHeadersMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # The organisation PostgreSQL's row-level security lets this request see (docs/isolation.md).
    "tandem.org.middleware.OrganisationContextMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "tandem.org.middleware.PersonTimezoneMiddleware",
]

ROOT_URLCONF = "tandem.site.urls"
WSGI_APPLICATION = "tandem.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [PACKAGE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "tandem.notifications.context.unread_notifications",
            ],
        },
    },
]


def prepared_statements() -> dict:
    """PostgreSQL plans a statement once per connection instead of at every execution.

    Reading one request joins a dozen small tables, and planning that join took PostgreSQL
    20-40 ms against under 1 ms to run it. With server-side binding, psycopg prepares a
    statement the fifth time a connection runs it, and PostgreSQL reuses the plan.
    ``TANDEM_PG_PREPARED_STATEMENTS=off`` turns it off, for a pooler in transaction mode
    that cannot carry prepared statements between clients (docs/scaling.md).
    """
    if os.environ.get("TANDEM_PG_PREPARED_STATEMENTS", "on").lower() in ("off", "0", "false", "no"):
        return {}
    return {"server_side_binding": True, "prepare_threshold": 5}


def database_from_url(url: str) -> dict:
    """Turn ``postgres://user:pass@host:port/name?opt=v`` or ``sqlite:///path`` into a DATABASES entry."""
    parts = urlsplit(url)
    if parts.scheme in ("postgres", "postgresql"):
        return {
            "ENGINE": "django.db.backends.postgresql",
            "NAME": unquote(parts.path.lstrip("/")),
            "USER": unquote(parts.username or ""),
            "PASSWORD": unquote(parts.password or ""),
            "HOST": parts.hostname or "",
            "PORT": str(parts.port or ""),
            "CONN_MAX_AGE": int(os.environ.get("TANDEM_CONN_MAX_AGE", "60")),
            "CONN_HEALTH_CHECKS": True,
            "OPTIONS": prepared_statements() | dict(parse_qsl(parts.query)),
        }
    if parts.scheme == "sqlite":
        return sqlite_database(Path(unquote(parts.path)))
    raise ValueError(f"TANDEM_DATABASE_URL: unsupported scheme {parts.scheme!r}; use postgres:// or sqlite://")


def sqlite_database(path: Path) -> dict:
    path.parent.mkdir(parents=True, exist_ok=True)
    return {
        "ENGINE": "django.db.backends.sqlite3",
        "NAME": path,
        # Kept between requests like PostgreSQL's: opening one per request ran the pragmas
        # below each time and started every request with an empty page cache.
        "CONN_MAX_AGE": int(os.environ.get("TANDEM_CONN_MAX_AGE", "60")),
        "CONN_HEALTH_CHECKS": True,
        "OPTIONS": {
            # IMMEDIATE: a transaction takes the write lock when it begins, so concurrent
            # read-then-write transactions queue on busy_timeout instead of failing with
            # "database is locked" when they try to upgrade their lock.
            "transaction_mode": "IMMEDIATE",
            "timeout": 20,
            "init_command": (
                "PRAGMA journal_mode=WAL;"
                "PRAGMA synchronous=NORMAL;"
                "PRAGMA busy_timeout=20000;"
                "PRAGMA foreign_keys=ON;"
                "PRAGMA cache_size=-65536;"
            ),
        },
    }


_database_url = os.environ.get("TANDEM_DATABASE_URL", "")
DATABASES = {
    "default": database_from_url(_database_url)
    if _database_url
    else sqlite_database(DATA_DIR / "tandem.sqlite3")
}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"

LANGUAGE_CODE = "en-gb"
TIME_ZONE = os.environ.get("TANDEM_TIME_ZONE", "Europe/London")
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
# Only needed for `tandem collectstatic` (e.g. to serve the files from a proxy): WhiteNoise
# serves them straight from the package otherwise.
STATIC_ROOT = os.environ.get("TANDEM_STATIC_ROOT") or None
# The product's own stylesheet and icons live beside the shared templates, outside any app.
STATICFILES_DIRS = [PACKAGE_DIR / "static"]
# Serve straight from the app folders: no collectstatic step is needed to run the product.
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = DEBUG

EMAIL_BACKEND = os.environ.get(
    "TANDEM_EMAIL_BACKEND", "django.core.mail.backends.console.EmailBackend"
)
EMAIL_HOST = os.environ.get("TANDEM_EMAIL_HOST", "localhost")
EMAIL_PORT = int(os.environ.get("TANDEM_EMAIL_PORT", "25"))
EMAIL_HOST_USER = os.environ.get("TANDEM_EMAIL_USER", "")
EMAIL_HOST_PASSWORD = os.environ.get("TANDEM_EMAIL_PASSWORD", "")
EMAIL_USE_TLS = os.environ.get("TANDEM_EMAIL_USE_TLS", "") == "1"
DEFAULT_FROM_EMAIL = os.environ.get("TANDEM_FROM_EMAIL", "tandem@localhost")

# Files attached to requests and comments (docs/operations.md "Files"): kept through Django's
# storage API, in TANDEM_FILES_DIR by default; any storage backend with its options in JSON
# (e.g. django-storages' S3Storage for S3-compatible storage) by TANDEM_FILE_STORAGE.
FILES_DIR = Path(os.environ.get("TANDEM_FILES_DIR", DATA_DIR / "files")).resolve()
_FILE_STORAGE = os.environ.get("TANDEM_FILE_STORAGE", "django.core.files.storage.FileSystemStorage")
try:
    _FILE_STORAGE_OPTIONS = json.loads(os.environ.get("TANDEM_FILE_STORAGE_OPTIONS", "") or "{}")
except json.JSONDecodeError as _error:
    raise ImproperlyConfigured(f"TANDEM_FILE_STORAGE_OPTIONS is not JSON: {_error}.") from None
if _FILE_STORAGE.endswith("FileSystemStorage"):
    _FILE_STORAGE_OPTIONS.setdefault("location", str(FILES_DIR))
STORAGES = {
    "default": {"BACKEND": _FILE_STORAGE, "OPTIONS": _FILE_STORAGE_OPTIONS},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
# Each service may narrow these (its own limit and kinds); never widen the kinds.
TANDEM_ATTACHMENT_MAX_MB = int(os.environ.get("TANDEM_ATTACHMENT_MAX_MB", "10"))
TANDEM_ATTACHMENT_TYPES = tuple(
    t.strip().lower().lstrip(".")
    for t in os.environ.get("TANDEM_ATTACHMENT_TYPES", "pdf,png,jpg,jpeg,gif,txt,csv,docx,xlsx,odt,ods").split(",")
    if t.strip()
)
# Requests by email (docs/email.md): the mailbox `tandem worker` reads over IMAP. Unset host:
# no mail is read.
TANDEM_IMAP_HOST = os.environ.get("TANDEM_IMAP_HOST", "")
TANDEM_IMAP_SECURITY = os.environ.get("TANDEM_IMAP_SECURITY", "ssl").strip().lower()
if TANDEM_IMAP_SECURITY not in ("ssl", "starttls", "none"):
    raise ImproperlyConfigured(f"TANDEM_IMAP_SECURITY is {TANDEM_IMAP_SECURITY!r}: set ssl, starttls or none.")
TANDEM_IMAP_PORT = int(os.environ.get("TANDEM_IMAP_PORT", "993" if TANDEM_IMAP_SECURITY == "ssl" else "143"))
TANDEM_IMAP_USER = os.environ.get("TANDEM_IMAP_USER", "")
TANDEM_IMAP_PASSWORD = os.environ.get("TANDEM_IMAP_PASSWORD", "")
TANDEM_IMAP_FOLDER = os.environ.get("TANDEM_IMAP_FOLDER", "INBOX")
TANDEM_IMAP_BATCH = int(os.environ.get("TANDEM_IMAP_BATCH", "200"))
# The mailbox's own address: replies to notifications go to its plus-addresses.
TANDEM_MAIL_ADDRESS = os.environ.get("TANDEM_MAIL_ADDRESS", "").strip()

# Limits that protect the database and the pages from oversized input.
DATA_UPLOAD_MAX_MEMORY_SIZE = 2_621_440
TANDEM_MAX_TEXT_LENGTH = 20_000
# How long a requester may reopen a resolved request before it closes by itself (working days).
TANDEM_REOPEN_WINDOW_DAYS = int(os.environ.get("TANDEM_REOPEN_WINDOW_DAYS", "5"))
# How long the link in an approver's email stays valid (docs/approvals.md).
TANDEM_APPROVAL_LINK_DAYS = int(os.environ.get("TANDEM_APPROVAL_LINK_DAYS", "7"))
# At most one notification email per person per this many minutes.
TANDEM_DIGEST_MINUTES = int(os.environ.get("TANDEM_DIGEST_MINUTES", "60"))
# SLA alerts (warnings and breaches) POSTed as signed JSON (docs/agreements.md, "Webhooks").
TANDEM_WEBHOOK_URL = os.environ.get("TANDEM_WEBHOOK_URL", "")
TANDEM_WEBHOOK_SECRET = os.environ.get("TANDEM_WEBHOOK_SECRET", "")
# Seconds a receiver has to answer one POST, and the first wait after a failure (then doubling
# up to an hour): docs/webhooks.md.
TANDEM_WEBHOOK_TIMEOUT = float(os.environ.get("TANDEM_WEBHOOK_TIMEOUT", "10"))
TANDEM_WEBHOOK_RETRY_SECONDS = float(os.environ.get("TANDEM_WEBHOOK_RETRY_SECONDS", "30"))
# Webhooks go to public addresses only; "1" also lets them go to this machine and private
# networks (a receiver on the same host or LAN): docs/webhooks.md.
TANDEM_WEBHOOK_ALLOW_PRIVATE = (
    os.environ.get("TANDEM_WEBHOOK_ALLOW_PRIVATE", "").strip().lower() in {"1", "true", "yes", "on"}
)
# The confidence of the promise quoted to requesters (per cent): 85 means "kept 85 times in 100".
TANDEM_PROMISE_CONFIDENCE = int(os.environ.get("TANDEM_PROMISE_CONFIDENCE", "85"))
if not 50 <= TANDEM_PROMISE_CONFIDENCE <= 99:
    raise ImproperlyConfigured("TANDEM_PROMISE_CONFIDENCE must be a whole per cent from 50 to 99 (e.g. 85).")
# The pulse (docs/pulse.md): asked per month or quarter; results shown for a unit only when at
# least this many people answered (never below 3, so that no answer can be singled out).
TANDEM_PULSE_PERIOD = os.environ.get("TANDEM_PULSE_PERIOD", "month").strip().lower()
if TANDEM_PULSE_PERIOD not in ("month", "quarter"):
    raise ImproperlyConfigured(f"TANDEM_PULSE_PERIOD is {TANDEM_PULSE_PERIOD!r}: set it to 'month' or 'quarter'.")
TANDEM_PULSE_MIN_ANSWERS = int(os.environ.get("TANDEM_PULSE_MIN_ANSWERS", "5"))
if TANDEM_PULSE_MIN_ANSWERS < 3:
    raise ImproperlyConfigured("TANDEM_PULSE_MIN_ANSWERS must be 3 or more: fewer answers could be traced to a person.")
TANDEM_PULSE_GRACE_DAYS = int(os.environ.get("TANDEM_PULSE_GRACE_DAYS", "7"))
# Pay parity (docs/pay.md): no figure of a group smaller than this is shown, directly or by subtraction.
TANDEM_PAY_MIN_GROUP = int(os.environ.get("TANDEM_PAY_MIN_GROUP", "5"))
if TANDEM_PAY_MIN_GROUP < 3:
    raise ImproperlyConfigured("TANDEM_PAY_MIN_GROUP must be 3 or more: a smaller group's figures tell a person's pay.")
# Gifts and hospitality at or above this value are flagged for compliance review.
TANDEM_GIFT_REVIEW_VALUE = float(os.environ.get("TANDEM_GIFT_REVIEW_VALUE", "50"))
# The change calendar (docs/changes.md): minutes of change per person per week a front-office
# unit absorbs when no executive set its own limit.
TANDEM_CHANGE_WEEKLY_MINUTES = int(os.environ.get("TANDEM_CHANGE_WEEKLY_MINUTES", "60"))

PASSWORD_HASHERS = [
    # Argon2id (argon2-cffi) for every new or changed password; the others only verify older
    # hashes, which are upgraded to Argon2 at the person's next sign-in.
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2SHA1PasswordHasher",
    "django.contrib.auth.hashers.ScryptPasswordHasher",
]
# Sign-in throttling (tandem/org/lockout.py): after this many failed sign-ins within the window,
# further attempts for that account (or from that address) are refused until the window passes
# or an administrator runs `tandem unlock`.
TANDEM_LOGIN_MAX_FAILURES = int(os.environ.get("TANDEM_LOGIN_MAX_FAILURES", "5"))
TANDEM_LOGIN_MAX_FAILURES_PER_IP = int(os.environ.get("TANDEM_LOGIN_MAX_FAILURES_PER_IP", "50"))
TANDEM_LOGIN_WINDOW_MINUTES = int(os.environ.get("TANDEM_LOGIN_WINDOW_MINUTES", "15"))
# The header a reverse proxy puts the client's address in (e.g. X-Forwarded-For; its last entry
# counts, the one the proxy itself added). Unset: the connection's address (REMOTE_ADDR).
TANDEM_CLIENT_IP_HEADER = os.environ.get("TANDEM_CLIENT_IP_HEADER", "")
AUTHENTICATION_BACKENDS = ["tandem.org.lockout.ThrottledModelBackend", "tandem.org.sso.OrganisationSignIn"]

# Single sign-on (docs/sign-in.md): mozilla-django-oidc's code flow; each organisation's
# provider (issuer, client, endpoints) is a row, not a setting.
OIDC_AUTHENTICATION_CALLBACK_URL = "sso_callback"
OIDC_RP_SCOPES = "openid email profile"
OIDC_USE_PKCE = True
OIDC_TIMEOUT = 10
OIDC_CREATE_USER = False  # Tandem decides who is added (sign_in_through), not the library

SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
# The CSRF cookie stays readable by scripts: API clients in the browser send it back as X-CSRFToken.
CSRF_COOKIE_HTTPONLY = False
CSRF_COOKIE_SAMESITE = "Lax"
SESSION_COOKIE_SECURE = PRODUCTION
CSRF_COOKIE_SECURE = PRODUCTION
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
# Behind a TLS-terminating proxy: the header (and value) it sets on HTTPS requests, e.g.
# "X-Forwarded-Proto: https". Only set it when the proxy always sets or strips that header.
_proxy_ssl_header = os.environ.get("TANDEM_PROXY_SSL_HEADER", "")
if _proxy_ssl_header:
    _name, _, _value = _proxy_ssl_header.partition(":")
    if not _name.strip() or not _value.strip():
        raise ImproperlyConfigured(
            f"TANDEM_PROXY_SSL_HEADER is {_proxy_ssl_header!r}: write it as 'Header-Name: value', "
            "e.g. 'X-Forwarded-Proto: https'."
        )
    SECURE_PROXY_SSL_HEADER = ("HTTP_" + _name.strip().upper().replace("-", "_"), _value.strip())
SECURE_SSL_REDIRECT = PRODUCTION and os.environ.get("TANDEM_SSL_REDIRECT", "1") != "0"
SECURE_HSTS_SECONDS = int(os.environ.get("TANDEM_HSTS_SECONDS", "31536000" if PRODUCTION else "0"))
SECURE_HSTS_INCLUDE_SUBDOMAINS = os.environ.get("TANDEM_HSTS_INCLUDE_SUBDOMAINS", "1") != "0"
SECURE_HSTS_PRELOAD = os.environ.get("TANDEM_HSTS_PRELOAD", "") == "1"
# Deliberate choices an operator makes with the variables above, not oversights: `tandem check
# --deploy` should not report them (docs/operations.md explains each).
SILENCED_SYSTEM_CHECKS = [
    *([] if SECURE_HSTS_PRELOAD else ["security.W021"]),  # preloading is opt-in, for public domains
    *(["security.W008"] if PRODUCTION and not SECURE_SSL_REDIRECT else []),  # the proxy redirects
    *(["security.W005"] if not SECURE_HSTS_INCLUDE_SUBDOMAINS else []),
]

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": os.environ.get("TANDEM_LOG_LEVEL", "WARNING")},
}
