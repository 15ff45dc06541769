"""Role flags for the page layout (navigation shows what the user may do)."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest

from commands.permissions import actor_for


def roles(request: HttpRequest) -> dict[str, Any]:
    user = request.user
    if not user.is_authenticated:
        return {"roles": {}}
    actor = actor_for(user)
    commands_ok = actor.is_superuser or bool(actor.roles & {"teller", "customer"})
    label = "superuser" if actor.is_superuser else ", ".join(sorted(actor.roles))
    return {
        "roles": {
            "can_open": commands_ok,
            "can_transfer": commands_ok,
            "can_manage": actor.is_superuser or "teller" in actor.roles,
            "sees_everything": actor.sees_everything,
            "label": label,
        }
    }
