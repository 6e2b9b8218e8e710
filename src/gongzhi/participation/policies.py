"""Who may do what to a micro-wish. Pages, the API and the actions all ask these; the actions enforce them
(``require``) and say why when they refuse.

- grid workers, building stewards and community staff *collect* wishes in their area (a resident makes one
  for themselves online);
- community staff (and above) *verify*, *publish* and *reject* (``wishes.manage``), and record offline
  what a claimant or the resident did;
- party members of the wish's community and contacts of a partner unit serving it *claim* a published wish,
  one claimant only; nobody claims their own wish;
- the claimant *fulfils* it (or hands it back, ``release``); the resident *thanks*.
"""

from __future__ import annotations

from django.core.exceptions import PermissionDenied, ValidationError
from django.utils.translation import gettext as _

from gongzhi.core.access import SYSTEM, Role
from gongzhi.orgs.models import NodeKind, OrgNode, PartyMember, UnitService

from .models import ALLOWED_FROM, ORDER_FROM, ORDER_STEP_WORDS, STEP_WORDS, OrderStatus, ServiceOrder, Wish
from .permissions import Perm


def _authenticated(user) -> bool:
    return user is not None and getattr(user, "is_authenticated", False) and user.is_active


def community_paths(path: str) -> list[str]:
    """Every prefix of ``path`` a node could have (each step of the tree)."""
    step = OrgNode.steplen
    return [path[:i] for i in range(step, len(path) + 1, step)]


def community_of_path(path: str) -> OrgNode | None:
    """The community at or above ``path``."""
    return OrgNode.objects.filter(path__in=community_paths(path), kind=NodeKind.COMMUNITY).first()


def member_community(user) -> OrgNode | None:
    """The community a party member belongs to for participation: where they are assigned (下沉), else where
    they live; None for anybody who is not a party member with a registry record."""
    if not _authenticated(user):
        return None
    cached = getattr(user, "_participation_community", False)
    if cached is not False:
        return cached
    member = (PartyMember.objects.filter(resident__user=user)
              .select_related("assigned_node", "resident").first())
    community = None
    if member is not None:
        path = member.assigned_node.path if member.assigned_node_id else member.resident.org_path
        community = community_of_path(path)
    user._participation_community = community
    return community


def partner_community_paths(user) -> list[str]:
    """Paths of the nodes served by the partner units the user is a contact of."""
    if not _authenticated(user):
        return []
    units = {a.unit_id for a in user.active_assignments if a.unit_id and a.role == Role.PARTNER_CONTACT}
    if not units:
        return []
    return list(UnitService.objects.filter(unit_id__in=units).values_list("org_path", flat=True))


def claim_paths(user) -> list[str]:
    """The areas whose published wishes the user may claim (and so see on the wall); worked out once per
    request (kept on the user object)."""
    if not _authenticated(user):
        return []
    cached = getattr(user, "_participation_claim_paths", None)
    if cached is None:
        paths = partner_community_paths(user)
        community = member_community(user)
        if community is not None:
            paths.append(community.path)
        cached = user._participation_claim_paths = sorted(set(paths))
    return cached


def can_collect(user, node: OrgNode) -> bool:
    return user is SYSTEM or _authenticated(user) and user.can(Perm.WISHES_COLLECT, node.path)


def can_manage(user, wish: Wish) -> bool:
    return _authenticated(user) and user.can(Perm.WISHES_MANAGE, wish.org_path)


def is_wisher(user, wish: Wish) -> bool:
    return _authenticated(user) and wish.resident.user_id == user.pk


def is_claimant(user, wish: Wish) -> bool:
    return _authenticated(user) and wish.claimed_by_id == user.pk


def may_claim_in(user, wish: Wish) -> bool:
    """The user is among those who claim wishes in the wish's community."""
    return any(wish.org_path.startswith(p) for p in claim_paths(user))


def sees_whole(user, wish: Wish) -> bool:
    """Who the resident is (name, household): staff of the area, and the resident."""
    return _authenticated(user) and (user.can(Perm.WISHES_VIEW, wish.org_path) or is_wisher(user, wish))


def can_see(user, wish: Wish) -> bool:
    return sees_whole(user, wish) or is_claimant(user, wish) or (
        wish.published_at is not None and may_claim_in(user, wish))


def allowed(user, wish: Wish, step: str) -> bool:
    """Whether ``user`` may take ``step`` on ``wish`` now (its state included)."""
    if wish.status not in ALLOWED_FROM.get(step, ()):
        return False
    if user is SYSTEM:  # the demo loader, imports: any step the state allows
        return True
    if step in ("verify", "publish", "reject"):
        return can_manage(user, wish)
    if step == "claim":
        return may_claim_in(user, wish) and not is_wisher(user, wish)
    if step in ("release", "fulfil"):
        return is_claimant(user, wish) or can_manage(user, wish)
    if step == "thank":
        return (is_wisher(user, wish) or can_manage(user, wish)) and not wish.thanks_note
    return False


STEPS = ("verify", "publish", "reject", "claim", "release", "fulfil", "thank")


def allowed_steps(user, wish: Wish) -> list[str]:
    return [step for step in STEPS if allowed(user, wish, step)]


def why_not(user, wish: Wish, step: str) -> str:
    """The reason ``step`` is refused, in words for the user."""
    if wish.status not in ALLOWED_FROM.get(step, ()):
        if step == "claim" and wish.status == "claimed":
            return _("%(name)s has already claimed this wish.") % {"name": wish.claimant_name or _("someone")}
        return _("This wish is %(status)s: it cannot be %(step)s now.") % {
            "status": wish.get_status_display(), "step": STEP_WORDS.get(step, step)}
    if step == "claim" and is_wisher(user, wish):
        return _("You cannot claim your own wish.")
    if step == "claim":
        return _("Only party members of this community and its partner units claim its wishes.")
    return _("You may not do this.")


class StepRefused(ValidationError):
    """A step the wish's state does not allow now (claimed by someone else a moment ago, already fulfilled): the
    API answers 409 with the reason."""


def require(user, wish: Wish, step: str) -> None:
    """Refuse ``step`` with the reason: ``StepRefused`` when the wish's state does not allow it, else
    ``PermissionDenied`` when the user may not take it."""
    if allowed(user, wish, step):
        return
    if wish.status not in ALLOWED_FROM.get(step, ()):
        raise StepRefused(why_not(user, wish, step))
    raise PermissionDenied(why_not(user, wish, step))


# --- service orders ------------------------------------------------------------------------------------------------


def can_place(user, node: OrgNode) -> bool:
    """Order a service for a resident living at ``node`` (a resident orders for themselves)."""
    return user is SYSTEM or _authenticated(user) and user.can(Perm.ORDERS_PLACE, node.path)


def can_dispatch(user, order: ServiceOrder) -> bool:
    return user is SYSTEM or _authenticated(user) and user.can(Perm.ORDERS_DISPATCH, order.org_path)


def is_orderer(user, order: ServiceOrder) -> bool:
    return _authenticated(user) and order.resident.user_id == user.pk


def is_taker(user, order: ServiceOrder) -> bool:
    return _authenticated(user) and order.assignee_id == user.pk


def may_take_in(user, order: ServiceOrder) -> bool:
    """Among those who take the community's orders (its party members, its partner units' contacts)."""
    return any(order.org_path.startswith(p) for p in claim_paths(user))


def order_allowed(user, order: ServiceOrder, step: str) -> bool:
    if order.status not in ORDER_FROM.get(step, ()):
        return False
    if user is SYSTEM:
        return True
    if step in ("dispatch", "open"):
        return can_dispatch(user, order)
    if step == "take":
        if order.status == OrderStatus.DISPATCHED:
            return is_taker(user, order)
        return may_take_in(user, order) and not is_orderer(user, order)
    if step == "complete":
        return is_taker(user, order)
    if step == "rate":
        return is_orderer(user, order) or (_authenticated(user) and user.can(Perm.ORDERS_PLACE, order.org_path))
    if step == "cancel":
        return is_orderer(user, order) or can_dispatch(user, order) or (
            _authenticated(user) and user.can(Perm.ORDERS_PLACE, order.org_path))
    return False


ORDER_STEPS = ("dispatch", "open", "take", "complete", "rate", "cancel")


def order_steps(user, order: ServiceOrder) -> list[str]:
    return [step for step in ORDER_STEPS if order_allowed(user, order, step)]


def order_sees_whole(user, order: ServiceOrder) -> bool:
    return _authenticated(user) and (user.can(Perm.ORDERS_VIEW, order.org_path) or is_orderer(user, order)
                                     or is_taker(user, order))


def order_require(user, order: ServiceOrder, step: str) -> None:
    if order_allowed(user, order, step):
        return
    if order.status not in ORDER_FROM.get(step, ()):
        if step == "take" and order.status == OrderStatus.TAKEN:
            raise StepRefused(_("%(name)s has already taken this order.") % {"name": order.taker_name})
        if step == "rate" and order.status == OrderStatus.RATED:
            raise StepRefused(_("This order has been rated already."))
        raise StepRefused(_("This order is %(status)s: it cannot be %(step)s now.") % {
            "status": order.get_status_display(), "step": ORDER_STEP_WORDS.get(step, step)})
    if step == "take" and is_orderer(user, order):
        raise PermissionDenied(_("You cannot take your own order."))
    if step == "take" and order.status == OrderStatus.DISPATCHED:
        raise PermissionDenied(_("This order was dispatched to %(name)s.") % {"name": order.taker_name})
    raise PermissionDenied(_("You may not do this."))
