"""JWT access tokens for the API: HS256 signed with SECRET_KEY, short-lived.

Claims: `sub` (username), `iat`, `exp`, `jti`. Verification accepts HS256 only (so `none` and RS256 tokens
are refused), requires every claim, and checks that the user still exists and is active.
"""

from __future__ import annotations

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


def issue_token(user: User, *, now: datetime | None = None) -> dict[str, Any]:
    now = now or datetime.now(UTC)
    claims = {"sub": user.get_username(), "iat": now, "exp": now + TOKEN_TTL, "jti": str(uuid.uuid4())}
    return {
        "access": jwt.encode(claims, settings.SECRET_KEY, algorithm=ALGORITHM),
        "token_type": "Bearer",
        "expires_in": int(TOKEN_TTL.total_seconds()),
    }


def user_for_token(token: str) -> User | None:
    """The active user the token names, or None for any invalid, expired or foreign token."""
    try:
        claims = jwt.decode(
            token,
            settings.SECRET_KEY,
            algorithms=[ALGORITHM],
            options={"require": ["exp", "iat", "sub", "jti"]},
        )
    except jwt.PyJWTError:
        return None
    return User.objects.filter(username=claims["sub"], is_active=True).first()


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
