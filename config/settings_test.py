"""Test settings: the production module, with a fast password hasher and synchronous RQ."""

from __future__ import annotations

import os

# Tests run with DEBUG off, like production; they need a key but no secret one.
os.environ.setdefault("SECRET_KEY", "test-only-key-" + "x" * 40)

from config.settings import *  # noqa: F403
from config.settings import RQ_QUEUES  # noqa: E402

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
# The test client and live server speak plain HTTP (production redirects it to HTTPS: LEDGER_HTTPS).
SECURE_SSL_REDIRECT = False
for _queue in RQ_QUEUES.values():
    _queue["ASYNC"] = False
# Mail stays in django.core.mail.outbox (the tests that run worker processes give them a mail directory).
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
# A failing event is retried at once (the tests that test the back-off set it themselves).
LEDGER_PROJECTION_RETRY_MS = 0
# Each test makes many requests as one user; the rate-limit test lowers this again.
LEDGER_RATE_LIMIT_PER_MINUTE = 1_000_000
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
# Serve static files from the app folders, as in development: tests never run collectstatic.
WHITENOISE_AUTOREFRESH = True
WHITENOISE_USE_FINDERS = True
