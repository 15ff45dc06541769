"""Brute-force protection for /login/, /admin/login/ and POST /api/token, apart from the API's rate limit.

Failed logins are counted in PostgreSQL (not Redis, so the throttle holds while Redis is down) per username
and per address, over LEDGER_LOGIN_WINDOW_SECONDS. Once a username has LEDGER_LOGIN_MAX_FAILURES failures, or
an address LEDGER_LOGIN_MAX_FAILURES_PER_ADDRESS, the next attempt is refused before the password is looked at:
429 with Retry-After for the API, a form error saying when to try again for the pages. Failures against one
username never lock out another user from the same address (the per-address limit is much higher: an office
shares one address). Every failure and every refusal is logged as a security event, without the password;
a successful login clears the username's failures.
"""

from __future__ import annotations

import logging
import math
from typing import Any

from django import forms
from django.conf import settings
from django.contrib.admin.forms import AdminAuthenticationForm
from django.contrib.auth.forms import AuthenticationForm
from django.contrib.auth.signals import user_logged_in, user_login_failed
from django.db import connection
from django.dispatch import receiver
from django.http import HttpRequest

security = logging.getLogger("ledger.security")


def retry_after(username: str, address: str) -> int | None:
    """Seconds until an attempt for this username from this address may be made, or None when it may now."""
    window = settings.LEDGER_LOGIN_WINDOW_SECONDS
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FILTER (WHERE username = %s), min(at) FILTER (WHERE username = %s),"
            " count(*) FILTER (WHERE address = %s), min(at) FILTER (WHERE address = %s),"
            " extract(epoch FROM statement_timestamp())"
            " FROM login_failures WHERE (username = %s OR address = %s)"
            " AND at > statement_timestamp() - make_interval(secs => %s)",
            [username, username, address, address, username, address, window],
        )
        by_user, user_since, by_address, address_since, now = cursor.fetchone()
    waits = [
        window - (float(now) - since.timestamp())
        for count, limit, since in (
            (by_user, settings.LEDGER_LOGIN_MAX_FAILURES, user_since),
            (by_address, settings.LEDGER_LOGIN_MAX_FAILURES_PER_ADDRESS, address_since),
        )
        if count >= limit
    ]
    if not waits:
        return None
    wait = max(1, int(math.ceil(max(waits))))
    security.warning("login refused: too many failures", extra={"username": username, "address": address})
    return wait


def address_of(request: HttpRequest | None) -> str:
    return str(request.META.get("REMOTE_ADDR", "unknown")) if request is not None else "unknown"


@receiver(user_login_failed)
def _count_failure(sender: Any, credentials: dict[str, Any], request: HttpRequest | None = None, **_: Any) -> None:
    username, address = str(credentials.get("username", ""))[:150], address_of(request)
    with connection.cursor() as cursor:
        cursor.execute("INSERT INTO login_failures (username, address) VALUES (%s, %s)", [username, address])
        # Rows past any window are of no use: kept small as it goes.
        cursor.execute("DELETE FROM login_failures WHERE at < statement_timestamp() - interval '1 day'")
    security.warning("login failed", extra={"username": username, "address": address})


def succeeded(username: str) -> None:
    """A correct password: the username's failures are forgotten (the address's stay)."""
    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM login_failures WHERE username = %s", [username])


@receiver(user_logged_in)
def _clear_failures(sender: Any, request: HttpRequest | None, user: Any, **_: Any) -> None:
    succeeded(user.get_username())


class _Throttled:
    """An authentication form that refuses before checking the password when the throttle says so."""

    request: HttpRequest | None

    def clean(self) -> dict[str, Any]:
        username = str(self.data.get("username", ""))  # type: ignore[attr-defined]
        wait = retry_after(username, address_of(self.request))
        if wait is not None:
            minutes = max(1, math.ceil(wait / 60))
            raise forms.ValidationError(
                f"Too many failed attempts: try again in {minutes} minute{'s' if minutes > 1 else ''}.",
                code="throttled",
            )
        return super().clean()  # type: ignore[misc, no-any-return]


class ThrottledAuthenticationForm(_Throttled, AuthenticationForm):
    pass


class ThrottledAdminAuthenticationForm(_Throttled, AdminAuthenticationForm):
    pass
