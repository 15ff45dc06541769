"""JWT access tokens for the API: HS256, short-lived, signed with LEDGER_TOKEN_KEY (its own key, derived from
SECRET_KEY unless given).

Claims: `iss` and `aud` (this API), `sub` (username), `iat`, `exp`, `jti`, and `pwd`, a fingerprint of the
user's password hash. Verification accepts HS256 only (so `none` and RS256 tokens are refused), requires every
claim, checks issuer and audience, and that the user still exists, is active, has the same password (a
password change revokes every token) and has no revocation after the token was issued (revoke()).
"""

from __future__ import annotations

import hmac
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any, cast

import jwt
from django.conf import settings
from django.contrib.auth.models import User
from django.db import connection
from django.http import HttpRequest
from ninja.security import APIKeyCookie, HttpBearer

from eventstore.cursors import prepared

ALGORITHM = "HS256"
TOKEN_TTL = timedelta(minutes=15)
ISSUER, AUDIENCE = "ledger", "ledger-api"


def issue_token(user: User, *, now: datetime | None = None) -> dict[str, Any]:
    now = now or datetime.now(UTC)
    claims = {
        "iss": ISSUER,
        "aud": AUDIENCE,
        "sub": user.get_username(),
        "iat": now,
        "exp": now + TOKEN_TTL,
        "jti": str(uuid.uuid4()),
        "pwd": _password_fingerprint(user),
    }
    return {
        "access": jwt.encode(claims, settings.LEDGER_TOKEN_KEY, algorithm=ALGORITHM),
        "token_type": "Bearer",
        "expires_in": int(TOKEN_TTL.total_seconds()),
    }


def verified_claims(request: HttpRequest, token: str) -> dict[str, Any] | None:
    """The token's claims when its signature, issuer, audience, lifetime and required claims hold, else None.

    Decoded once per request: the rate limit (for its identity) and the authentication both ask, and decoding
    was about an eighth of an authenticated read (bench B9). Nothing is kept across requests, so expiry is
    checked on every one.
    """
    kept = getattr(request, "_ledger_token_claims", None)
    if kept is not None and kept[0] == token:
        return cast(dict[str, Any] | None, kept[1])
    try:
        claims: dict[str, Any] | None = jwt.decode(
            token,
            settings.LEDGER_TOKEN_KEY,
            algorithms=[ALGORITHM],
            issuer=ISSUER,
            audience=AUDIENCE,
            options={"require": ["iss", "aud", "exp", "iat", "sub", "jti", "pwd"]},
        )
    except jwt.PyJWTError:
        claims = None
    request._ledger_token_claims = (token, claims)  # type: ignore[attr-defined]
    return claims


def user_for_claims(claims: dict[str, Any] | None) -> User | None:
    """The active user verified claims name, or None when there are none, the user is inactive or gone, their
    password changed since the token was issued, or the token was issued before a revocation."""
    if claims is None:
        return None
    found = _active_user(str(claims["sub"]))
    if found is None:
        return None
    user, not_before = found
    if not hmac.compare_digest(str(claims["pwd"]), _password_fingerprint(user)):
        return None
    if not_before is not None and claims["iat"] <= not_before.timestamp():
        return None
    return user


def _active_user(username: str) -> tuple[User, datetime | None] | None:
    """The active user, their token cutoff, and (for anyone but a superuser) their permissions, in one query.

    The permissions go where Django's ModelBackend keeps them for the request (`_perm_cache`, a stable part of
    it since Django 1.x), so the role check that follows costs nothing: the ORM's user, user-permission and
    group-permission queries were three round trips and most of an authenticated API read's time (bench B9).
    """
    from gateway.models import TokenCutoff

    fields = [field.attname for field in User._meta.concrete_fields]
    with prepared() as cursor:  # planning this statement was most of its cost
        cursor.execute(
            f"SELECT {', '.join('u.' + connection.ops.quote_name(name) for name in fields)}, c.not_before,"
            " ARRAY(SELECT t.app_label || '.' || p.codename FROM auth_permission p"
            " JOIN django_content_type t ON t.id = p.content_type_id WHERE p.id IN ("
            " SELECT permission_id FROM auth_user_user_permissions WHERE user_id = u.id UNION"
            " SELECT g.permission_id FROM auth_group_permissions g JOIN auth_user_groups m"
            " ON m.group_id = g.group_id WHERE m.user_id = u.id))"
            f" FROM {User._meta.db_table} u LEFT JOIN {TokenCutoff._meta.db_table} c ON c.user_id = u.id"
            " WHERE u.username = %s AND u.is_active",
            [username],
        )
        row = cursor.fetchone()
    if row is None:
        return None
    user = User.from_db(connection.alias, fields, row[: len(fields)])
    if not user.is_superuser:  # a superuser holds every permission: Django works that out itself
        user._perm_cache = set(row[-1])  # type: ignore[attr-defined]
    return user, row[len(fields)]


def revoke(user: User) -> None:
    """Refuse every token issued to `user` until now (a new login gets a new one)."""
    from gateway.models import TokenCutoff

    TokenCutoff.objects.update_or_create(user=user, defaults={"not_before": datetime.now(UTC)})


def _password_fingerprint(user: User) -> str:
    return hmac.new(settings.LEDGER_TOKEN_KEY.encode(), user.password.encode(), "sha256").hexdigest()[:16]


def authenticated_user(request: HttpRequest) -> User:
    """The user ninja's auth classes put on `request.auth`; 401 if there is none (cannot happen on an
    endpoint that requires auth, but keeps the type honest)."""
    from ninja.errors import AuthenticationError

    user = getattr(request, "auth", None)
    if not isinstance(user, User):
        raise AuthenticationError()
    return user


class JWTAuth(HttpBearer):
    """`Authorization: Bearer <token>`."""

    def authenticate(self, request: HttpRequest, token: str) -> User | None:
        user = user_for_claims(verified_claims(request, token))
        if user is not None:
            request.user = user
        return user


class SessionAuth(APIKeyCookie):
    """Same-origin browser sessions, with Django's CSRF check; no session cookie means "not me", not 403."""

    param_name = settings.SESSION_COOKIE_NAME

    def __call__(self, request: HttpRequest) -> Any:
        if self.param_name not in request.COOKIES:
            return None
        return super().__call__(request)

    def authenticate(self, request: HttpRequest, key: str | None) -> Any:
        return request.user if request.user.is_authenticated else None
