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
from typing import Any

import jwt
from django.conf import settings
from django.contrib.auth.models import User
from django.http import HttpRequest
from ninja.security import APIKeyCookie, HttpBearer

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


def user_for_token(token: str) -> User | None:
    """The active user the token names, or None for any invalid, expired or foreign token."""
    try:
        claims = jwt.decode(
            token,
            settings.LEDGER_TOKEN_KEY,
            algorithms=[ALGORITHM],
            issuer=ISSUER,
            audience=AUDIENCE,
            options={"require": ["iss", "aud", "exp", "iat", "sub", "jti", "pwd"]},
        )
    except jwt.PyJWTError:
        return None
    user = User.objects.filter(username=claims["sub"], is_active=True).select_related("token_cutoff").first()
    if user is None or not hmac.compare_digest(str(claims["pwd"]), _password_fingerprint(user)):
        return None
    cutoff = getattr(user, "token_cutoff", None)
    if cutoff is not None and claims["iat"] <= cutoff.not_before.timestamp():
        return None
    return user


def revoke(user: User) -> None:
    """Refuse every token issued to `user` until now (a new login gets a new one)."""
    from commands.models import TokenCutoff

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
        user = user_for_token(token)
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
