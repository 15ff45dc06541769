"""From a Django user to the domain's Actor: they hold a role when they hold its permission (gateway.roles)."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest

from commands.domain.access import Actor
from gateway.roles import MARKS
from gateway.tokens import authenticated_user


def actor_for(user: Any) -> Actor:
    """The Actor for an authenticated Django user: they hold a role when they hold its mark permission
    (through the role's group, or given one by one)."""
    granted = user.get_all_permissions()
    roles = frozenset(role for role, mark in MARKS.items() if mark in granted)
    return Actor(username=user.get_username(), roles=roles, is_superuser=bool(user.is_superuser))


def actor_of(request: HttpRequest) -> Actor:
    """The Actor behind an authenticated API request."""
    return actor_for(authenticated_user(request))
