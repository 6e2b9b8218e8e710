"""Reads of micro-wishes, always scoped: staff see their area's wishes with who made them; party members and
partner contacts see the wall of the communities where they claim (the surname and the place only), and what
they claimed; a resident sees their own."""

from __future__ import annotations

import datetime as dt

from django.db.models import Q, QuerySet
from django.http import Http404

from gongzhi.core.scoping import scope_q, under
from gongzhi.core.workdays import day_start
from gongzhi.orgs.models import NodeKind, OrgNode

from . import policies
from .models import OrderStatus, ServiceItem, ServiceOrder, Wish, WishStatus
from .permissions import Perm

ON_WALL = (WishStatus.PUBLISHED, WishStatus.CLAIMED, WishStatus.FULFILLED)


def visible_q(user) -> Q | None:
    """Wishes the user may see at all (``policies.can_see``), as one condition; None: none."""
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return None
    q = Q(resident__user=user) | Q(claimed_by=user)
    area = scope_q(user, Perm.WISHES_VIEW)
    if area is not None:
        q |= area
    for path in policies.claim_paths(user):
        q |= under(path) & Q(status__in=ON_WALL)
    return q


def wishes(user) -> QuerySet[Wish]:
    q = visible_q(user)
    if q is None:
        return Wish.objects.none()
    return Wish.objects.filter(q).select_related("node", "community", "resident", "claimed_unit")


def wish_get(user, pk) -> Wish:
    """One wish the user may see; missing and out of sight answer the same 404."""
    try:
        return wishes(user).get(pk=pk)
    except (Wish.DoesNotExist, ValueError, TypeError):
        raise Http404("not found") from None


def area_wishes(user) -> QuerySet[Wish]:
    """The staff list: the area's wishes (``wishes.view``)."""
    area = scope_q(user, Perm.WISHES_VIEW)
    if area is None:
        return Wish.objects.none()
    return Wish.objects.filter(area).select_related("node", "community", "resident")


def wall(user) -> QuerySet[Wish]:
    """Published wishes the user may claim, oldest first (the longest waiting on top)."""
    paths = policies.claim_paths(user)
    if not paths:
        return Wish.objects.none()
    q = Q()
    for path in paths:
        q |= under(path)
    return (Wish.objects.filter(q, status=WishStatus.PUBLISHED).select_related("node")
            .order_by("published_at", "id"))


def my_claims(user) -> QuerySet[Wish]:
    return Wish.objects.filter(claimed_by=user).select_related("node").order_by("-claimed_at", "-id")


def my_wishes(user) -> QuerySet[Wish]:
    return Wish.objects.filter(resident__user=user).select_related("node").order_by("-collected_at", "-id")


def figures(node: OrgNode, date_from: dt.date, date_to: dt.date) -> dict:
    """Wishes collected in the period under ``node``, and of those: published, claimed, fulfilled; the claim
    rate (claimed / published, 0-1, None without any published) and the mean days from publication to claim
    (docs/metrics.md, "Participation"). Counted in the database, one query."""
    from django.db.models import Avg, Count, F

    found = Wish.objects.filter(
        under(node.path), collected_at__gte=day_start(date_from), collected_at__lt=day_start(date_to + dt.timedelta(days=1)),
    ).aggregate(
        collected=Count("id"), published=Count("id", filter=Q(published_at__isnull=False)),
        claimed=Count("id", filter=Q(published_at__isnull=False, claimed_at__isnull=False)),
        fulfilled=Count("id", filter=Q(status=WishStatus.FULFILLED)),
        wait=Avg(F("claimed_at") - F("published_at"), filter=Q(published_at__isnull=False, claimed_at__isnull=False)),
    )
    wait = found.pop("wait")
    found["claim_rate"] = round(found["claimed"] / found["published"], 4) if found["published"] else None
    found["days_to_claim"] = round(wait.total_seconds() / 86400, 1) if wait is not None else None
    return found


# --- service orders ------------------------------------------------------------------------------------------------

ORDER_ACTIVE = (OrderStatus.ORDERED, OrderStatus.OPEN, OrderStatus.DISPATCHED, OrderStatus.TAKEN,
                OrderStatus.COMPLETED, OrderStatus.RETURNED)


def order_visible_q(user) -> Q | None:
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return None
    q = Q(resident__user=user) | Q(assignee=user)
    area = scope_q(user, Perm.ORDERS_VIEW)
    if area is not None:
        q |= area
    for path in policies.claim_paths(user):
        q |= under(path) & Q(status=OrderStatus.OPEN)
    return q


def orders(user) -> QuerySet[ServiceOrder]:
    q = order_visible_q(user)
    if q is None:
        return ServiceOrder.objects.none()
    return ServiceOrder.objects.filter(q).select_related("item", "node", "resident__household")


def order_get(user, pk) -> ServiceOrder:
    try:
        return orders(user).get(pk=pk)
    except (ServiceOrder.DoesNotExist, ValueError, TypeError):
        raise Http404("not found") from None


def area_orders(user) -> QuerySet[ServiceOrder]:
    area = scope_q(user, Perm.ORDERS_VIEW)
    if area is None:
        return ServiceOrder.objects.none()
    return ServiceOrder.objects.filter(area).select_related("item", "node", "resident")


def open_orders(user) -> QuerySet[ServiceOrder]:
    """Orders open for taking in the communities where the user takes them, the soonest window first."""
    paths = policies.claim_paths(user)
    if not paths:
        return ServiceOrder.objects.none()
    q = Q()
    for path in paths:
        q |= under(path)
    return (ServiceOrder.objects.filter(q, status=OrderStatus.OPEN).exclude(resident__user=user)
            .select_related("item", "node").order_by("window_end", "id"))


def my_orders(user, *, done: bool = False) -> QuerySet[ServiceOrder]:
    """Orders dispatched to or taken by the user still to do (the soonest first), or ``done`` ones (newest first)."""
    waiting = (OrderStatus.DISPATCHED, OrderStatus.TAKEN)
    qs = ServiceOrder.objects.filter(assignee=user).select_related("item", "node", "resident__household")
    if done:
        return qs.exclude(status__in=waiting).order_by("-completed_at", "-id")
    return qs.filter(status__in=waiting).order_by("window_start", "id")


def ordered_by_me(user) -> QuerySet[ServiceOrder]:
    return ServiceOrder.objects.filter(resident__user=user).select_related("item").order_by("-ordered_at", "-id")


def service_list(community: OrgNode) -> QuerySet[ServiceItem]:
    return ServiceItem.objects.filter(community=community, is_active=True)


def takers(community: OrgNode) -> list:
    """The party members of ``community`` with an account, whom the branch may dispatch to."""
    from gongzhi.orgs.models import PartyMember

    members = (PartyMember.objects.filter(under(community.path), resident__user__isnull=False)
               .select_related("resident__user").order_by("resident__name"))
    return [m.resident.user for m in members if m.resident.user.is_active]


def order_figures(node: OrgNode, date_from: dt.date, date_to: dt.date) -> dict:
    """Orders placed in the period under ``node``: how many, rated (their standing rating), satisfied; the
    satisfaction rate (satisfied / rated, 0-1) and the hours of satisfied orders. One query."""
    from django.db.models import Count, Sum

    found = ServiceOrder.objects.filter(
        under(node.path), ordered_at__gte=day_start(date_from), ordered_at__lt=day_start(date_to + dt.timedelta(days=1)),
    ).aggregate(n_orders=Count("id"), n_rated=Count("id", filter=Q(satisfied__isnull=False)),
                n_satisfied=Count("id", filter=Q(satisfied=True)), n_hours=Sum("hours", filter=Q(satisfied=True)))
    found = {key[2:]: value for key, value in found.items()}
    found["satisfaction_rate"] = round(found["satisfied"] / found["rated"], 4) if found["rated"] else None
    found["hours"] = float(found["hours"] or 0)
    return found


# --- party members at work -----------------------------------------------------------------------------------------


def my_membership(user):
    """The user's party membership with its resident, or None."""
    from gongzhi.orgs.models import PartyMember

    if not getattr(user, "is_authenticated", False):
        return None
    return PartyMember.objects.filter(resident__user=user).select_related("resident", "assigned_node", "organization").first()


def my_registration(member):
    from .models import DualRegistration

    if member is None:
        return None
    return (DualRegistration.objects.filter(member=member).select_related("community", "micro_grid")
            .order_by("-requested_at", "-id").first())


def households_looked_after(member, limit: int = 50) -> list[dict]:
    """The households of the member's micro-grid: the head's name and masked phone, the address; nothing else."""
    from gongzhi.orgs.models import Household

    if member is None or member.assigned_node.kind not in (NodeKind.GRID, NodeKind.MICRO_GRID):
        return []
    rows = (Household.objects.filter(under(member.assigned_node.path)).select_related("head")
            .order_by("address", "id")[:limit])
    return [{"address": h.address, "head": h.head.name if h.head_id else "",
             "phone": h.head.phone_masked if h.head_id else ""} for h in rows]


def _month(today: dt.date) -> tuple[dt.datetime, dt.datetime]:
    start = today.replace(day=1)
    end = (start + dt.timedelta(days=32)).replace(day=1)
    return day_start(start), day_start(end)


def hours_of(user, today: dt.date) -> dict:
    """The hours of the user's satisfied service orders: this month, and in all."""
    from django.db.models import Sum

    done = ServiceOrder.objects.filter(assignee=user, status=OrderStatus.RATED, satisfied=True)
    start, end = _month(today)
    month = done.filter(completed_at__gte=start, completed_at__lt=end).aggregate(h=Sum("hours"))["h"]
    total = done.aggregate(h=Sum("hours"))["h"]
    return {"month": float(month or 0), "total": float(total or 0)}


def branch_ranking(member, today: dt.date, limit: int = 10) -> list[dict]:
    """The members of the member's party organisation with an account, by hours of satisfied service this month."""
    from django.db.models import Count, Sum

    if member is None:
        return []
    start, end = _month(today)
    rows = (ServiceOrder.objects.filter(
        assignee__resident__party_member__organization=member.organization_id, status=OrderStatus.RATED,
        satisfied=True, completed_at__gte=start, completed_at__lt=end,
    ).values("assignee", "assignee__resident__name").annotate(hours=Sum("hours"), orders=Count("id"))
        .order_by("-hours", "assignee")[:limit])
    return [{"name": r["assignee__resident__name"], "hours": float(r["hours"] or 0), "orders": r["orders"],
             "me": r["assignee"] == member.resident.user_id} for r in rows]


def party_participation(node: OrgNode, today: dt.date) -> dict:
    """在职党员 participation this month under ``node``: members with a confirmed dual registration there, and
    how many of them did at least one satisfied service; the rate (0-1, None without registered members)."""
    from .models import DualRegistration, DualStatus

    start, end = _month(today)
    registered = set(DualRegistration.objects.filter(under(node.path), status=DualStatus.CONFIRMED)
                     .values_list("member__resident__user_id", flat=True))
    registered.discard(None)
    active = set(ServiceOrder.objects.filter(
        assignee_id__in=registered, status=OrderStatus.RATED, satisfied=True, completed_at__gte=start,
        completed_at__lt=end).values_list("assignee_id", flat=True)) if registered else set()
    return {"registered": len(registered), "active": len(active),
            "rate": round(len(active) / len(registered), 4) if registered else None}
