"""Django settings, configured entirely from environment variables (see docs/configuration.md).

SQLite is the embedded default; setting ``TANDEM_DATABASE_URL`` to a ``postgres://`` URL
switches to PostgreSQL (psycopg 3).
"""

from __future__ import annotations

import os
from pathlib import Path
from urllib.parse import parse_qsl, unquote, urlsplit

PACKAGE_DIR = Path(__file__).resolve().parent
DATA_DIR = Path(os.environ.get("TANDEM_DATA_DIR", Path.cwd() / "var")).resolve()

DEBUG = os.environ.get("TANDEM_DEBUG", "") == "1"
# The fallback key is only good for the demo; `tandem check --deploy` refuses it.
SECRET_KEY = os.environ.get("TANDEM_SECRET_KEY", "insecure-demo-key-change-me-in-production-0123456789")
ALLOWED_HOSTS = [h for h in os.environ.get("TANDEM_ALLOWED_HOSTS", "*").split(",") if h]
CSRF_TRUSTED_ORIGINS = [o for o in os.environ.get("TANDEM_CSRF_TRUSTED_ORIGINS", "").split(",") if o]
SITE_URL = os.environ.get("TANDEM_SITE_URL", "http://127.0.0.1:8000")

INSTALLED_APPS = [
    "tandem.org",
    "tandem.catalogue",
    "tandem.agreements",
    "tandem.work",
    "tandem.notifications",
    "tandem.insights",
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
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "tandem.org.middleware.PersonTimezoneMiddleware",
]

ROOT_URLCONF = "tandem.urls"
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
            "OPTIONS": dict(parse_qsl(parts.query)),
        }
    if parts.scheme == "sqlite":
        return sqlite_database(Path(unquote(parts.path)))
    raise ValueError(f"TANDEM_DATABASE_URL: unsupported scheme {parts.scheme!r}; use postgres:// or sqlite://")


def sqlite_database(path: Path) -> dict:
    path.parent.mkdir(parents=True, exist_ok=True)
    return {
        "ENGINE": "django.db.backends.sqlite3",
        "NAME": path,
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

# Limits that protect the database and the pages from oversized input.
DATA_UPLOAD_MAX_MEMORY_SIZE = 2_621_440
TANDEM_MAX_TEXT_LENGTH = 20_000
# How long a requester may reopen a resolved request before it closes by itself (working days).
TANDEM_REOPEN_WINDOW_DAYS = int(os.environ.get("TANDEM_REOPEN_WINDOW_DAYS", "5"))
# At most one notification email per person per this many minutes.
TANDEM_DIGEST_MINUTES = int(os.environ.get("TANDEM_DIGEST_MINUTES", "60"))
# SLA alerts (warnings and breaches) POSTed as signed JSON (docs/agreements.md, "Webhooks").
TANDEM_WEBHOOK_URL = os.environ.get("TANDEM_WEBHOOK_URL", "")
TANDEM_WEBHOOK_SECRET = os.environ.get("TANDEM_WEBHOOK_SECRET", "")

SESSION_COOKIE_HTTPONLY = True
CSRF_COOKIE_HTTPONLY = False
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": os.environ.get("TANDEM_LOG_LEVEL", "WARNING")},
}
