"""The roles, as Django groups holding Django permissions: the one place that says which role may do what.

    teller    commands on any account; reads everything
    auditor   reads everything (pages, API, the admin audit trail); changes nothing
    operator  operates the read side: projector retry, skip and rebuild, the queue dashboard, /metrics
    customer  opens accounts for themself and operates them; reads only them

`ensure_groups()` creates the groups with their permissions (after every migrate, and from demo_data); an
administrator gives people roles by putting them in groups, or single permissions to a user.
"""

from __future__ import annotations

from typing import Any

# The permission that makes a user hold the role (gateway.actors.actor_for); the rest of ROLES[role]
# are what the role's group also gets (the admin audit trail's view permissions).
MARKS: dict[str, str] = {
    "teller": "commands.command_any_account",
    "auditor": "commands.read_all_accounts",
    "operator": "commands.operate_projections",
    "customer": "commands.command_own_accounts",
}
ROLES: dict[str, tuple[str, ...]] = {
    "teller": ("commands.command_any_account", "commands.read_all_accounts"),
    "auditor": (
        "commands.read_all_accounts",
        "eventstore.view_event",
        "eventstore.view_snapshot",
        "projections.view_projectioncheckpoint",
        "projections.view_operatoraction",
        "projections.view_accountsummary",
        "projections.view_ledgerentry",
        "projections.view_accountsearch",
        "projections.view_dailytotal",
        "projections.view_notification",
    ),
    "operator": (
        "commands.operate_projections",
        "projections.view_projectioncheckpoint",
        "projections.view_operatoraction",
        "projections.view_notification",
    ),
    "customer": ("commands.command_own_accounts",),
}


def ensure_groups() -> dict[str, Any]:
    """Create or update the role groups so each holds exactly its role's permissions."""
    from django.contrib.auth.models import Group  # not at import: this module is plain data for the others

    groups = {}
    for role, codes in ROLES.items():
        group, _ = Group.objects.get_or_create(name=role)
        permissions = [_permission(code) for code in codes]
        group.permissions.set([p for p in permissions if p is not None])
        groups[role] = group
    return groups


def _permission(code: str) -> Any:
    from django.contrib.auth.models import Permission

    app_label, codename = code.split(".")
    return Permission.objects.filter(content_type__app_label=app_label, codename=codename).first()
