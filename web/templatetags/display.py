"""`{% load display %}`: page formatting for templates, the same as web.display gives views."""

from __future__ import annotations

from django import template

from web import display

register = template.Library()


@register.filter
def money(minor: int | None, currency: str) -> str:
    """`{{ amount|money:currency }}`: minor units with thousands separators ("1,234,567.89"); "" for None."""
    return "" if minor is None else display.money_text(minor, currency)
