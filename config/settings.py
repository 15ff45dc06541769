"""Ledger settings, read from the environment with safe production defaults.

`DJANGO_DEBUG=1` is the dev profile (`make run` sets it unless told otherwise). Every variable is listed in
README.md; a missing or malformed one stops the process with one line naming it (see `config.env`).
"""

from __future__ import annotations

import hmac
import os
import re
import sys
from pathlib import Path

from config.env import (
    SettingError,
    adopt_run_profile,
    env_bool,
    env_int,
    env_list,
    env_str,
    owner_url,
    parse_database_url,
    parse_redis_url,
    read_run_env,
    service_urls,
)

BASE_DIR = Path(__file__).resolve().parent.parent
_run_env = read_run_env()
adopt_run_profile(os.environ, _run_env)

DEBUG = env_bool("DJANGO_DEBUG", default=False)
SECRET_KEY = env_str("SECRET_KEY", "dev-only-insecure-key-do-not-use-in-production" if DEBUG else None)
if not DEBUG and len(SECRET_KEY) < 50:
    raise SettingError("SECRET_KEY must be at least 50 characters when DJANGO_DEBUG is off")
# API tokens are signed with their own key (derived from SECRET_KEY unless given), so either can be rotated alone.
LEDGER_TOKEN_KEY = (
    env_str("LEDGER_TOKEN_KEY", "") or hmac.new(SECRET_KEY.encode(), b"ledger api tokens", "sha256").hexdigest()
)
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["localhost", "127.0.0.1", "[::1]"])

_database_url, _redis_url = service_urls(os.environ, _run_env)
# `manage.py migrate` and `import_events` run as the owner role where there is one (eventstore.database_roles).
_database_url = owner_url(os.environ, _run_env, sys.argv) or _database_url
if not _database_url:
    raise SettingError("DATABASE_URL is not set (make run starts an embedded PostgreSQL and writes .run/env)")
if not _redis_url:
    raise SettingError("REDIS_URL is not set (make run starts an embedded Redis and writes .run/env)")
REDIS_URL = parse_redis_url(_redis_url)

# Why these limits: one stuck transaction must not block every writer (lock_timeout), nor hold back the
# event store's read horizon for long (idle_in_transaction_session_timeout), nor a runaway query the pool.
_pg_options = " ".join(
    f"-c {name}={env_int(var, default)}"
    for name, var, default in (
        ("statement_timeout", "LEDGER_STATEMENT_TIMEOUT_MS", 30_000),
        ("lock_timeout", "LEDGER_LOCK_TIMEOUT_MS", 5_000),
        ("idle_in_transaction_session_timeout", "LEDGER_IDLE_IN_TRANSACTION_TIMEOUT_MS", 60_000),
    )
)
_database = parse_database_url(_database_url)
# prepare_threshold: Django turns psycopg's prepared statements off, and its own cursors bind on the client and
# never prepare; only the event store's hot statements (eventstore.cursors.prepared) are prepared, from their
# fifth run on a connection. `?prepare_threshold=none` in DATABASE_URL turns that off behind a pooler.
_database["OPTIONS"] = {"options": _pg_options, "connect_timeout": 5, "prepare_threshold": 5, **_database["OPTIONS"]}
# Persistent connections with a health check rather than psycopg's pool: gunicorn forks its workers, and a
# pool's background threads do not survive a fork; CONN_HEALTH_CHECKS lets web processes outlive a restart.
_database["CONN_MAX_AGE"] = env_int("CONN_MAX_AGE", 60)
_database["CONN_HEALTH_CHECKS"] = True
DATABASES = {"default": _database}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.postgres",
    "django_htmx",
    "template_partials",
    "django_rq",
    "ninja",
    "eventstore",
    "commands",
    "projections",
    "gateway",  # after the apps whose permissions its role groups hold (see gateway.apps)
    "web",
]

MIDDLEWARE = [
    "gateway.middleware.RequestIdentityMiddleware",
    "gateway.csp.ContentSecurityPolicyMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "gateway.middleware.ApiGuardMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"
TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "web.context_processors.roles",
            ],
        },
    },
]

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]
LOGIN_URL = "/login/"
LOGIN_REDIRECT_URL = "/accounts/"
LOGOUT_REDIRECT_URL = "/login/"

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = False
USE_TZ = True

STATIC_URL = "/static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = BASE_DIR / "staticfiles"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
        if DEBUG
        else "whitenoise.storage.CompressedManifestStaticFilesStorage"
    },
}

_secure = env_bool("LEDGER_SECURE_COOKIES", default=not DEBUG)
SESSION_COOKIE_SECURE = CSRF_COOKIE_SECURE = _secure
# Served over HTTPS (the production default): redirect plain HTTP, and tell browsers to stay on HTTPS (HSTS).
# `make run` in the production profile serves plain HTTP on 127.0.0.1 and turns this off.
LEDGER_HTTPS = env_bool("LEDGER_HTTPS", default=not DEBUG)
SECURE_SSL_REDIRECT = LEDGER_HTTPS
SECURE_HSTS_SECONDS = env_int("LEDGER_HSTS_SECONDS", 31_536_000 if LEDGER_HTTPS else 0, minimum=0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = SECURE_HSTS_PRELOAD = LEDGER_HTTPS
SECURE_REDIRECT_EXEMPT = [r"^healthz$", r"^readyz$"]  # a load balancer probes them over plain HTTP
# Behind a proxy that terminates TLS: trust its X-Forwarded-Proto (only there: anyone can send the header).
if env_bool("LEDGER_BEHIND_PROXY", default=False):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])
SESSION_COOKIE_HTTPONLY = True
SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"

# Every Redis client gets timeouts: a paused Redis must be an error, not a hang (docs/pitfalls.md, "Redis and RQ").
REDIS_SOCKET_TIMEOUT = 2.0
CACHES = {
    "default": {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": REDIS_URL,
        "OPTIONS": {"socket_timeout": REDIS_SOCKET_TIMEOUT, "socket_connect_timeout": REDIS_SOCKET_TIMEOUT},
    }
}
RQ_QUEUES = {name: {"URL": REDIS_URL, "DEFAULT_TIMEOUT": 300} for name in ("projections", "default")}
RQ = {"COMMIT_MODE": "on_db_commit", "WORKER_CLASS": "projections.worker.ProjectionWorker"}

# 20: a command decodes at most 19 events after the snapshot; at 100 the tail was half of a deposit's time (bench B2:
# 0.060x -> 0.085x raw), for one snapshot row per 20 events.
LEDGER_SNAPSHOT_EVERY = env_int("LEDGER_SNAPSHOT_EVERY", 20, minimum=1)
LEDGER_IDEMPOTENCY_RETENTION_HOURS = env_int("LEDGER_IDEMPOTENCY_RETENTION_HOURS", 24, minimum=1)
LEDGER_CATCHUP_SECONDS = env_int("LEDGER_CATCHUP_SECONDS", 5, minimum=1)
# An event that fails to apply is tried this many times, the waits doubling from LEDGER_PROJECTION_RETRY_MS,
# before its projector is marked failed (transient faults are retried without limit).
LEDGER_PROJECTION_ATTEMPTS = env_int("LEDGER_PROJECTION_ATTEMPTS", 5, minimum=1)
LEDGER_PROJECTION_RETRY_MS = env_int("LEDGER_PROJECTION_RETRY_MS", 1000, minimum=0)
LEDGER_RATE_LIMIT_PER_MINUTE = env_int("LEDGER_RATE_LIMIT_PER_MINUTE", 120, minimum=1)
LEDGER_METRICS_TOKEN = env_str("LEDGER_METRICS_TOKEN", "")
LEDGER_API_MAX_BODY_BYTES = env_int("LEDGER_API_MAX_BODY_BYTES", 64 * 1024, minimum=1024)
# Login throttle (gateway.login_throttle): failed logins per username, and per address (for sprays across many
# usernames: much higher, since an office shares one), within the window; the next attempt is refused.
LEDGER_LOGIN_MAX_FAILURES = env_int("LEDGER_LOGIN_MAX_FAILURES", 9, minimum=1)
LEDGER_LOGIN_MAX_FAILURES_PER_ADDRESS = env_int("LEDGER_LOGIN_MAX_FAILURES_PER_ADDRESS", 100, minimum=1)
LEDGER_LOGIN_WINDOW_SECONDS = env_int("LEDGER_LOGIN_WINDOW_SECONDS", 300, minimum=1)

# Notifications (projections/outbox.py): withdrawals and transfers at or above the threshold (in the account's
# currency) are e-mailed to the holder and, with a webhook URL, POSTed as JSON.
LEDGER_ALERT_THRESHOLD = env_str("LEDGER_ALERT_THRESHOLD", "1000.00")
if not re.fullmatch(r"\d{1,12}(\.\d{1,4})?", LEDGER_ALERT_THRESHOLD):
    raise SettingError(f"LEDGER_ALERT_THRESHOLD must be an amount like 1000.00, not {LEDGER_ALERT_THRESHOLD!r}")
LEDGER_WEBHOOK_URL = env_str("LEDGER_WEBHOOK_URL", "")
# A delivery claimed this long ago by a worker that never finished it (it died) is due again.
LEDGER_DELIVERY_CLAIM_SECONDS = env_int("LEDGER_DELIVERY_CLAIM_SECONDS", 60, minimum=1)
# A directory: e-mail is written there, one file per notification (make run: .run/mail). Unset: SMTP.
LEDGER_MAIL_DIR = env_str("LEDGER_MAIL_DIR", "")
if LEDGER_MAIL_DIR:
    EMAIL_BACKEND = "projections.mailfiles.NotificationFileBackend"
    EMAIL_FILE_PATH = LEDGER_MAIL_DIR
else:
    EMAIL_HOST = env_str("EMAIL_HOST", "localhost")
    EMAIL_PORT = env_int("EMAIL_PORT", 25, minimum=1)
    EMAIL_HOST_USER = env_str("EMAIL_HOST_USER", "")
    EMAIL_HOST_PASSWORD = env_str("EMAIL_HOST_PASSWORD", "")
    EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", default=False)
    EMAIL_TIMEOUT = 10
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "Ledger <ledger@localhost>")

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"json": {"()": "config.logs.JsonFormatter"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "json"}},
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "INFO")},
}
