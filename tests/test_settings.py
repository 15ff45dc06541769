"""Settings come from the environment; a bad one stops the process with one clear line."""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest

from config.env import SettingError, env_bool, env_int, parse_database_url, service_urls

ROOT = Path(__file__).resolve().parent.parent


def manage(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    # As a fresh shell would have it: nothing of this test process's Django (nor the browser tests' async opt-out).
    unset = {"DJANGO_SETTINGS_MODULE", "SECRET_KEY", "DJANGO_DEBUG", "DJANGO_ALLOW_ASYNC_UNSAFE"}
    base = {k: v for k, v in os.environ.items() if k not in unset}
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        env={**base, **env},
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )


@pytest.mark.parametrize(
    "env, message",
    [
        ({}, "SECRET_KEY is required but not set"),
        ({"SECRET_KEY": "short"}, "SECRET_KEY must be at least 50 characters"),
        ({"SECRET_KEY": "k" * 40}, "SECRET_KEY must be at least 50 characters"),
        ({"DJANGO_DEBUG": "maybe"}, "DJANGO_DEBUG='maybe' is not a boolean"),
        (
            {"DJANGO_DEBUG": "1", "LEDGER_SNAPSHOT_EVERY": "often"},
            "LEDGER_SNAPSHOT_EVERY='often' is not a whole number",
        ),
        ({"DJANGO_DEBUG": "1", "LEDGER_SNAPSHOT_EVERY": "0"}, "LEDGER_SNAPSHOT_EVERY=0 must be at least 1"),
        ({"DJANGO_DEBUG": "1", "DATABASE_URL": "mysql://x/y"}, "DATABASE_URL must start with postgresql://"),
        ({"DJANGO_DEBUG": "1", "LEDGER_ALERT_THRESHOLD": "lots"}, "LEDGER_ALERT_THRESHOLD must be an amount"),
    ],
)
def test_a_bad_setting_stops_manage_py_with_one_line(env, message):
    result = manage(env, "check")

    assert result.returncode == 1
    (line,) = result.stderr.strip().splitlines()  # one line, no traceback
    assert line.startswith(f"ledger: configuration error: {message}")


def test_the_documented_production_settings_pass_check_deploy_without_a_warning():
    production = {
        "SECRET_KEY": secrets.token_urlsafe(64),
        "ALLOWED_HOSTS": "ledger.example.com",
        "CSRF_TRUSTED_ORIGINS": "https://ledger.example.com",
        "LEDGER_BEHIND_PROXY": "1",
    }
    result = manage(production, "check", "--deploy", "--fail-level", "WARNING")

    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues" in result.stdout


def test_production_defaults_are_safe():
    script = "from django.conf import settings as s; print(s.DEBUG, s.SESSION_COOKIE_SECURE, s.DATABASES)"
    result = manage({"SECRET_KEY": "k" * 60}, "shell", "-v", "0", "-c", script)

    assert result.returncode == 0, result.stderr
    debug, secure, databases = result.stdout.strip().split(" ", 2)
    assert (debug, secure) == ("False", "True")
    for timeout in ("statement_timeout=", "lock_timeout=", "idle_in_transaction_session_timeout="):
        assert timeout in databases


def test_a_socket_database_url_keeps_its_path():
    parsed = parse_database_url("postgresql://postgres@%2Fwork%2FRun%2Fpg:5432/ledger?sslmode=disable")

    assert (parsed["HOST"], parsed["PORT"], parsed["NAME"], parsed["USER"]) == (
        "/work/Run/pg",
        "5432",
        "ledger",
        "postgres",
    )
    assert parsed["OPTIONS"] == {"sslmode": "disable"}


def test_run_env_is_used_only_when_the_environment_sets_neither_url():
    run_env = {"DATABASE_URL": "postgresql://a/b", "REDIS_URL": "redis://c"}

    assert service_urls({}, run_env) == ("postgresql://a/b", "redis://c")
    assert service_urls({"DATABASE_URL": "postgresql://x/y"}, run_env) == ("postgresql://x/y", None)


def test_typed_helpers(monkeypatch):
    monkeypatch.setenv("FLAG", "yes")
    monkeypatch.setenv("COUNT", "-1")

    assert env_bool("FLAG") is True
    with pytest.raises(SettingError, match="at least 0"):
        env_int("COUNT", 5)


@pytest.mark.parametrize(("given", "expected"), [("7", 7), ("0", 0), ("none", None), ("None", None)])
def test_database_url_sets_when_statements_are_prepared(given, expected):
    parsed = parse_database_url(f"postgresql://postgres@localhost/ledger?prepare_threshold={given}")

    assert parsed["OPTIONS"]["prepare_threshold"] == expected


def test_a_prepare_threshold_that_is_no_number_is_refused():
    with pytest.raises(SettingError, match="prepare_threshold='often'"):
        parse_database_url("postgresql://postgres@localhost/ledger?prepare_threshold=often")
