"""Typed readers for settings that come from the environment.

Each helper raises `SettingError` (an `ImproperlyConfigured`) with one line that names the variable and what
is wrong with it; `manage.py` and `wsgi.py` print that line and exit instead of showing a traceback.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, MutableMapping
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

from django.core.exceptions import ImproperlyConfigured

RUN_ENV_FILE = Path(os.environ.get("LEDGER_RUN_DIR") or Path(__file__).resolve().parent.parent / ".run") / "env"
# What `make run` writes to .run/env besides the URLs: the profile it runs, so `manage.py` in a second terminal
# gets the same without extra variables.
RUN_PROFILE = ("DJANGO_DEBUG", "SECRET_KEY", "LEDGER_MAIL_DIR")
_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}


class SettingError(ImproperlyConfigured):
    """A setting from the environment is missing or malformed."""


def env_str(name: str, default: str | None = None) -> str:
    value = os.environ.get(name, default)
    if value is None:
        raise SettingError(f"{name} is required but not set")
    return value


def env_bool(name: str, default: bool = False) -> bool:
    raw = os.environ.get(name)
    return default if raw is None else flag(name, raw)


def flag(name: str, raw: str) -> bool:
    """The boolean setting `name` given as `raw`: 1/true/yes/on or 0/false/no/off; SettingError otherwise."""
    if raw.strip().lower() in _TRUE:
        return True
    if raw.strip().lower() in _FALSE:
        return False
    raise SettingError(f"{name}={raw!r} is not a boolean (use 1 or 0)")


def env_int(name: str, default: int, *, minimum: int = 0) -> int:
    raw = os.environ.get(name)
    if raw is None or raw.strip() == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise SettingError(f"{name}={raw!r} is not a whole number") from None
    if value < minimum:
        raise SettingError(f"{name}={value} must be at least {minimum}")
    return value


def env_list(name: str, default: list[str]) -> list[str]:
    raw = os.environ.get(name)
    if raw is None:
        return default
    return [item.strip() for item in raw.split(",") if item.strip()]


def read_run_env(path: Path = RUN_ENV_FILE) -> dict[str, str]:
    """The `KEY=value` lines `make run` writes, so a second terminal reaches the same embedded services."""
    if not path.exists():
        return {}
    pairs = (line.split("=", 1) for line in path.read_text().splitlines() if "=" in line)
    return {key.strip(): value.strip() for key, value in pairs if not key.startswith("#")}


def adopt_run_profile(environ: MutableMapping[str, str], run_env: Mapping[str, str]) -> None:
    """In a second terminal of `make run` (the environment names neither service URL): take the running
    instance's profile from `.run/env` for whatever the environment does not set itself."""
    if environ.get("DATABASE_URL") is None and environ.get("REDIS_URL") is None:
        for key in RUN_PROFILE:
            if key in run_env:
                environ.setdefault(key, run_env[key])


def service_urls(environ: Mapping[str, str], run_env: Mapping[str, str]) -> tuple[str | None, str | None]:
    """DATABASE_URL and REDIS_URL: from the environment, else (only when it sets neither) from `.run/env`."""
    database_url, redis_url = environ.get("DATABASE_URL"), environ.get("REDIS_URL")
    if database_url is None and redis_url is None:
        return run_env.get("DATABASE_URL"), run_env.get("REDIS_URL")
    return database_url, redis_url


# Commands that change the schema or write the store directly: they connect as the owner role.
OWNER_COMMANDS = frozenset({"migrate", "import_events"})


def owner_url(environ: Mapping[str, str], run_env: Mapping[str, str], argv: list[str]) -> str | None:
    """DATABASE_OWNER_URL when `argv` runs an owner command (eventstore.database_roles): from the environment, else
    from `.run/env` when the database URL comes from there too. None otherwise: use DATABASE_URL."""
    if len(argv) < 2 or argv[1] not in OWNER_COMMANDS:
        return None
    if "DATABASE_OWNER_URL" in environ:
        return environ["DATABASE_OWNER_URL"]
    return run_env.get("DATABASE_OWNER_URL") if "DATABASE_URL" not in environ else None


def parse_database_url(url: str) -> dict[str, Any]:
    """Turn `postgresql://user:password@host:port/name?options` into a Django DATABASES entry.

    The host may be a percent-encoded unix socket directory (`%2Ftmp%2Fpg`) or given as `?host=/tmp/pg`.
    """
    parts = urlsplit(url)
    if parts.scheme not in {"postgres", "postgresql"}:
        raise SettingError(f"DATABASE_URL must start with postgresql:// (got {parts.scheme or 'no'} scheme)")
    query: dict[str, Any] = {key: values[-1] for key, values in parse_qs(parts.query).items()}
    name = unquote(parts.path.lstrip("/"))
    if not name:
        raise SettingError("DATABASE_URL names no database (postgresql://user@host:port/NAME)")
    try:
        port = parts.port
    except ValueError:
        raise SettingError("DATABASE_URL has a port that is not a number") from None
    host = query.pop("host", None) or unquote(parts.hostname or "")
    if parts.netloc.split("@")[-1].startswith("%2"):
        # urlsplit lower-cases hostnames; a socket path must keep its case.
        host = unquote(parts.netloc.split("@")[-1].split(":")[0])
    if "prepare_threshold" in query:
        query["prepare_threshold"] = _prepare_threshold(query["prepare_threshold"])
    return {
        "ENGINE": "django.db.backends.postgresql",
        "NAME": name,
        "USER": unquote(parts.username or ""),
        "PASSWORD": unquote(parts.password or ""),
        "HOST": host,
        "PORT": str(port or ""),
        "OPTIONS": query,
    }


def _prepare_threshold(raw: str) -> int | None:
    """`?prepare_threshold=` in DATABASE_URL: a whole number, or `none` (never prepare: for a connection pooler
    that cannot keep prepared statements, such as PgBouncer before 1.21 in transaction mode)."""
    if raw.strip().lower() == "none":
        return None
    if not raw.strip().isdigit():
        raise SettingError(f"DATABASE_URL's prepare_threshold={raw!r} is neither a whole number nor 'none'")
    return int(raw)


def parse_redis_url(url: str) -> str:
    """Check REDIS_URL's scheme early, so a typo fails at start rather than at the first enqueue."""
    if urlsplit(url).scheme not in {"redis", "rediss", "unix"}:
        raise SettingError("REDIS_URL must start with redis://, rediss:// or unix://")
    return url
