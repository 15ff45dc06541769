"""WSGI entry point (gunicorn config.wsgi)."""

from __future__ import annotations

import os
import sys

from django.core.wsgi import get_wsgi_application

from config.env import SettingError

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
try:
    application = get_wsgi_application()
except SettingError as exc:
    sys.exit(f"ledger: configuration error: {exc}")
