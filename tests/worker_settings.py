"""Settings for rqworker processes started by the tests: the test settings, plus the toy event types that
earlier tests left in the shared (append-only) event store, so the worker can decode every stored event."""

from __future__ import annotations

import tests.eventstore.toy  # noqa: F401  (registers the toy event types)
from config.settings_test import *  # noqa: F403
