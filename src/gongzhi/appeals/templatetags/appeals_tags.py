"""Template helpers for the appeal pages: permission checks for the navigation."""

from django import template

register = template.Library()


@register.filter
def may(user, perm: str) -> bool:
    """``{% if user|may:"appeals.view" %}``: the user holds the permission somewhere."""
    return bool(getattr(user, "is_authenticated", False)) and user.can(perm)


@register.filter
def appeals_admin(user) -> bool:
    """County-wide appeal settings (categories, policies, calendar): ``policies.can_admin``."""
    from gongzhi.appeals.policies import can_admin

    return can_admin(user)
