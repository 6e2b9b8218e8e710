"""Template helpers for the appeal pages."""

from django import template

register = template.Library()


@register.filter
def appeals_admin(user) -> bool:
    """County-wide appeal settings (categories, policies, calendar): ``policies.can_admin``."""
    from gongzhi.appeals.policies import can_admin

    return can_admin(user)


@register.inclusion_tag("appeals/_waiting_card.html", takes_context=True)
def appeals_waiting(context):
    """``{% appeals_waiting %}``: how many appeals wait for the user, linked to their queues (nothing for a
    user without a dispatch, handling or checking queue)."""
    from gongzhi.appeals.selectors import waiting_count

    user = context["request"].user
    return {"count": waiting_count(user) if user.is_authenticated else None}
