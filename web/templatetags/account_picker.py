"""`{% load account_picker %}`: `{% account_picker form "from" as picker %}` gives the transfer page's picker
for one side (web.picker), as the signed-in user may see it."""

from __future__ import annotations

from typing import Any

from django import template

from gateway.actors import actor_for
from web import picker
from web.forms import TransferForm

register = template.Library()


@register.simple_tag(takes_context=True)
def account_picker(context: dict[str, Any], form: TransferForm, side: str) -> picker.Picker:
    return picker.picker_for_form(actor_for(context["request"].user), form, side)
