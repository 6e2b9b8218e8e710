"""Permission and role checks for templates (the navigation and page actions)."""

from django import template

register = template.Library()


@register.filter
def may(user, perm: str) -> bool:
    """``{% if user|may:"appeals.view" %}``: the user holds the permission somewhere."""
    return bool(getattr(user, "is_authenticated", False)) and user.can(perm)


@register.filter
def has_role(user, role: str) -> bool:
    """``{% if user|has_role:"resident" %}``: the user holds the role somewhere."""
    return bool(getattr(user, "is_authenticated", False)) and user.has_role(role)
