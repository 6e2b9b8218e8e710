"""Template helpers of the registry pages and the navigation."""

from django import template

register = template.Library()


@register.filter
def party_member(user) -> bool:
    """``{% if user|party_member %}``: the user's own registry record is a party member's."""
    from gongzhi.orgs.selectors import is_party_member

    return is_party_member(user)


@register.filter
def rounds_elsewhere(user) -> bool:
    """``{% if user|rounds_elsewhere %}``: a grid worker whose home is another page, so the menu links his
    phone page (for a grid worker alone it is home already)."""
    from gongzhi.core.access import Role
    from gongzhi.orgs.selectors import rounds_home

    return bool(getattr(user, "is_authenticated", False)) and user.has_role(Role.GRID_WORKER) and not rounds_home(user)
