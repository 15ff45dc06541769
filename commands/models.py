"""The write side's own table: idempotency records (events live in the event store)."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models.functions import Now


class IdempotencyRecord(models.Model):
    """A command's outcome under a client's Idempotency-Key, stored in the command's own transaction.

    Scoped per user: two users may use the same key. `fingerprint` identifies the request (method, path and
    canonical body), so a key reused for a different request is refused rather than replayed.
    """

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    key = models.CharField(max_length=200)
    fingerprint = models.CharField(max_length=64)
    status = models.PositiveSmallIntegerField()
    body = models.JSONField(default=dict)
    headers = models.JSONField(default=dict)
    created_at = models.DateTimeField()

    class Meta:
        db_table = "idempotency_records"
        constraints = [models.UniqueConstraint(fields=["user", "key"], name="idempotency_user_key")]
        indexes = [models.Index(fields=["created_at"], name="idempotency_created_at")]

    def __str__(self) -> str:
        return f"{self.key} ({self.status})"


class Access(models.Model):
    """No table: the permissions the roles are made of (commands.roles gives each role group its set)."""

    class Meta:
        managed = False
        default_permissions = ()
        permissions = [
            ("command_any_account", "Issue commands on any account"),
            ("command_own_accounts", "Open accounts for oneself and issue commands on them"),
            ("read_all_accounts", "Read every account, event and read model"),
            ("operate_projections", "Retry, skip and rebuild projections; use the queue dashboard"),
        ]


class LoginFailure(models.Model):
    """A failed login (page, admin or API token), kept for the throttle's window (config.login_throttle). In the
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
