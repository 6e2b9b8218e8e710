"""Template helpers for the appeal pages."""

from django import template

register = template.Library()


@register.filter
def appeals_admin(user) -> bool:
    """County-wide appeal settings (categories, policies, calendar): ``policies.can_admin``."""
    from gongzhi.appeals.policies import can_admin

    return can_admin(user)
