"""Small template helpers for the registry pages: role checks for the navigation."""

from django import template

register = template.Library()


@register.filter
def has_role(user, role: str) -> bool:
    """``{% if user|has_role:"resident" %}``: the navigation shows "my household" to residents only."""
    return bool(getattr(user, "is_authenticated", False)) and user.has_role(role)

