"""Role flags for the page layout (navigation shows what the user may do)."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest

from gateway.actors import actor_for


def roles(request: HttpRequest) -> dict[str, Any]:
    """The flags; none for a visitor, and none for a request refused before authentication ran (a 400 for a
    host not allowed renders its page without `request.user`)."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {"roles": {}}
    actor = actor_for(user)
    return {
        "roles": {
            "reads_accounts": actor.reads_accounts,
            "can_open": actor.may_command,
            "can_transfer": actor.may_command,
            "can_manage": actor.may_manage,
            "sees_everything": actor.sees_everything,
            "can_operate": actor.may_operate,
            "can_audit": bool(user.is_staff and user.has_module_perms("eventstore")),
            "label": actor.label,
        }
    }
