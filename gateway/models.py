"""The gateway's own tables: failed logins (the throttle's memory) and API token cut-offs (revocation)."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models.functions import Now


class LoginFailure(models.Model):
    """A failed login (page, admin or API token), kept for the throttle's window (gateway.login_throttle). In the
    database, not Redis: the throttle holds while Redis is down. The password is never kept."""

    username = models.CharField(max_length=150)
    address = models.CharField(max_length=64)
    at = models.DateTimeField(db_default=Now())

    class Meta:
        db_table = "login_failures"
        indexes = [
            models.Index(fields=["username", "at"], name="login_failures_username"),
            models.Index(fields=["address", "at"], name="login_failures_address"),
        ]

    def __str__(self) -> str:
        return f"{self.username} from {self.address} at {self.at:%Y-%m-%d %H:%M:%S}"


class TokenCutoff(models.Model):
    """API tokens of this user issued at or before `not_before` are refused (manage.py revoke_tokens)."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="token_cutoff")
    not_before = models.DateTimeField()

    class Meta:
        db_table = "api_token_cutoffs"

    def __str__(self) -> str:
        return f"{self.user} before {self.not_before:%Y-%m-%d %H:%M:%S}"
