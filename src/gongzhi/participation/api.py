"""Micro-wish endpoints: scoped reads through ``selectors``, every step through ``actions``.

A step the wish's state does not allow now (claimed by someone else a moment ago) answers 409 with the reason,
naming who took it; a step the caller may not take 403; a wish they may not see 404, like a missing one."""

import datetime as dt

from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Q
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext as _
from ninja import Query, Router
from ninja.pagination import paginate
from ninja.responses import Status as HttpStatus

from gongzhi.core.api import LIST_ERRORS, READ_ERRORS, WRITE_ERRORS, Id, Page, errors
from gongzhi.orgs import selectors as org_selectors
from gongzhi.accounts.models import User
from gongzhi.orgs.models import Resident, Unit

from . import actions, policies, selectors
from .models import ServiceItem
from .permissions import Perm
from .schemas import (
    OrderFilterIn, OrderIn, OrderOut, OrderStep, OrderStepIn, ParticipationOut, ParticipationQueryIn, ServiceItemOut, WishFilterIn, WishIn, WishOut, WishStep,
    WishStepIn,
)

router = Router(tags=["participation"])
STEP_ERRORS = {**WRITE_ERRORS, **errors(409)}


@router.get("/wishes", response={200: list[WishOut], **LIST_ERRORS}, summary="List micro-wishes")
@paginate(Page)
def wish_list(request, filters: Query[WishFilterIn]):
    """Wishes you may see: your area's (staff), the wall of the community where you claim (party members,
    partner units: surname and place only), those you claimed, and your own; newest first, or with `wall` the
    open ones the longest waiting first."""
    user = request.auth
    qs = selectors.wall(user) if filters.wall else selectors.wishes(user).order_by("-collected_at", "-id")
    if filters.status:
        qs = qs.filter(status=filters.status)
    return qs.select_related("resident")


@router.get("/wishes/{wish_id}", response={200: WishOut, **READ_ERRORS}, summary="One micro-wish")
def wish_detail(request, wish_id: Id):
    return selectors.wish_get(request.auth, wish_id)


@router.post("/wishes", response={201: WishOut, **WRITE_ERRORS}, summary="Take down a micro-wish")
def wish_create(request, payload: WishIn):
    """Staff take down a resident's wish (`resident_id`, in their area); a resident makes their own (no
    `resident_id`; the channel is `online`)."""
    user = request.auth
    if payload.resident_id is not None:
        resident = org_selectors.resident_get(user, payload.resident_id)
    else:
        resident = Resident.objects.filter(user=user).select_related("household").first()
        if resident is None:
            raise PermissionDenied(_("Your account is not linked to a resident: ask your grid worker."))
    wish = actions.wish_collect(by=user, resident=resident, title=payload.title, description=payload.description,
                                kind=payload.kind, channel=payload.channel)
    return HttpStatus(201, wish)


_STEPS = {
    "verify": lambda wish, by, p: actions.wish_verify(wish=wish, by=by, note=p.note),
    "publish": lambda wish, by, p: actions.wish_publish(wish=wish, by=by),
    "reject": lambda wish, by, p: actions.wish_reject(wish=wish, by=by, reason=p.note),
    "release": lambda wish, by, p: actions.wish_release(wish=wish, by=by, reason=p.note),
    "fulfil": lambda wish, by, p: actions.wish_fulfil(wish=wish, by=by, note=p.note),
    "thank": lambda wish, by, p: actions.wish_thank(wish=wish, by=by, note=p.note),
}


def _claim(wish, by, payload):
    unit = None
    if payload.unit_id is not None:
        unit = Unit.objects.filter(pk=payload.unit_id).first()
        if unit is None:
            raise Http404
    return actions.wish_claim(wish=wish, by=by, unit=unit)


_STEPS["claim"] = _claim


@router.post("/wishes/{wish_id}/{step}", response={200: WishOut, **STEP_ERRORS}, summary="Take a step on a micro-wish")
def wish_step(request, wish_id: Id, step: WishStep, payload: WishStepIn | None = None):
    """`claim` (one claimant: 409 naming who took it when someone was first), `release` (with the reason),
    `fulfil` (how), `thank`, and the staff's `verify`, `publish`, `reject` (why)."""
    user = request.auth
    wish = selectors.wish_get(user, wish_id)
    try:
        wish = _STEPS[step](wish, user, payload or WishStepIn())
    except policies.StepRefused as exc:
        return HttpStatus(409, {"detail": " ".join(exc.messages)})
    return wish


# --- service orders ----------------------------------------------------------------------------------------------


@router.get("/service-items", response={200: list[ServiceItemOut], **LIST_ERRORS}, summary="The service list")
@paginate(Page)
def service_items(request):
    """The service list of your community (a resident), or of the communities in your area (staff)."""
    user = request.auth
    own = Resident.objects.filter(user=user).select_related("household__grid").first()
    paths = [p for p in user.paths_with(Perm.ORDERS_PLACE)]
    if own is not None:
        paths.append(own.org_path)
    if not paths:
        return ServiceItem.objects.none()
    q = Q()
    for path in paths:
        q |= Q(org_path__startswith=path) | Q(org_path__in=policies.community_paths(path))
    return ServiceItem.objects.filter(q, is_active=True).order_by("community_id", "sort_order", "id")


@router.get("/service-orders", response={200: list[OrderOut], **LIST_ERRORS}, summary="List service orders")
@paginate(Page)
def order_list(request, filters: Query[OrderFilterIn]):
    """Orders you may see: your area's (staff), those open for you to take, dispatched to or taken by you, your
    own; newest first, or with `open` the open ones the soonest window first."""
    user = request.auth
    qs = selectors.open_orders(user) if filters.open else selectors.orders(user).order_by("-ordered_at", "-id")
    if filters.status:
        qs = qs.filter(status=filters.status)
    return qs


@router.get("/service-orders/{order_id}", response={200: OrderOut, **READ_ERRORS}, summary="One service order")
def order_detail(request, order_id: Id):
    return selectors.order_get(request.auth, order_id)


@router.post("/service-orders", response={201: OrderOut, **WRITE_ERRORS}, summary="Order a service")
def order_create(request, payload: OrderIn):
    """群众点单: a resident orders an item of their community's service list for a time window; staff order for a
    resident of their area (`resident_id`)."""
    user = request.auth
    if payload.resident_id is not None:
        resident = org_selectors.resident_get(user, payload.resident_id)
    else:
        resident = Resident.objects.filter(user=user).select_related("household").first()
        if resident is None:
            raise PermissionDenied(_("Your account is not linked to a resident: ask your grid worker."))
    item = ServiceItem.objects.filter(pk=payload.item_id).first()
    if item is None:
        raise Http404
    order = actions.order_place(by=user, resident=resident, item=item, window_start=payload.window_start,
                                window_end=payload.window_end, note=payload.note)
    return HttpStatus(201, order)


def _dispatch(order, by, p):
    to = User.objects.filter(pk=p.to_user_id, is_active=True).first() if p.to_user_id else None
    return actions.order_dispatch(order=order, by=by, to=to)


def _required(value, field):
    if value is None:
        raise ValidationError({field: _("This field is required.")})
    return value


_ORDER_STEPS = {
    "dispatch": _dispatch,
    "open": lambda o, by, p: actions.order_open(order=o, by=by),
    "take": lambda o, by, p: actions.order_take(order=o, by=by),
    "complete": lambda o, by, p: actions.order_complete(order=o, by=by, evidence=p.evidence,
                                                        hours=_required(p.hours, "hours")),
    "rate": lambda o, by, p: actions.order_rate(order=o, by=by, satisfied=_required(p.satisfied, "satisfied"),
                                                comment=p.comment),
    "cancel": lambda o, by, p: actions.order_cancel(order=o, by=by, reason=p.comment),
}


@router.post("/service-orders/{order_id}/{step}", response={200: OrderOut, **STEP_ERRORS},
             summary="Take a step on a service order")
def order_step(request, order_id: Id, step: OrderStep, payload: OrderStepIn | None = None):
    """`dispatch` (to a party member), `open` (for any of them to take), `take` (409 naming who was first),
    `complete` (evidence and hours), `rate` (satisfied or not, with a comment), `cancel`."""
    user = request.auth
    order = selectors.order_get(user, order_id)
    try:
        return _ORDER_STEPS[step](order, user, payload or OrderStepIn())
    except policies.StepRefused as exc:
        return HttpStatus(409, {"detail": " ".join(exc.messages)})


# --- figures -------------------------------------------------------------------------------------------------------

LONGEST_PERIOD = 366


@router.get("/metrics/participation", response={200: ParticipationOut, **READ_ERRORS, **errors(403)},
            summary="Participation figures: wishes, service orders, hours, party members")
def participation_metrics(request, q: Query[ParticipationQueryIn]):
    """The claim rate of micro-wishes, the satisfaction rate of service orders, the hours served and the share of
    in-service party members who served this month, under a node in a period (both days inclusive), as
    docs/metrics.md ("Participation") defines them. A node outside your area answers 404; a period longer than
    366 days or ending before it starts answers 422."""
    user = request.auth
    if not (user.can(Perm.WISHES_VIEW) or user.can(Perm.ORDERS_VIEW)):
        raise PermissionDenied(_("You may not see the participation figures."))
    if q.node is not None:
        node = org_selectors.node_get(user, q.node)
    else:
        node = org_selectors.nodes(user).order_by("depth", "path").first()
        if node is None:
            raise Http404
    date_to = q.date_to or timezone.localdate()
    date_from = q.date_from or date_to - dt.timedelta(days=29)
    if date_from > date_to or (date_to - date_from).days >= LONGEST_PERIOD:
        raise ValidationError({"from": _("Choose a period of 1 to 366 days that ends after it starts.")})
    wishes = selectors.figures(node, date_from, date_to)
    orders = selectors.order_figures(node, date_from, date_to)
    party = selectors.party_participation(node, date_to)
    return {
        "node_id": node.pk, "node_name": node.name, "date_from": date_from, "date_to": date_to,
        "figures": {
            "wishes_collected": wishes["collected"], "wishes_published": wishes["published"],
            "wishes_claimed": wishes["claimed"], "wishes_fulfilled": wishes["fulfilled"],
            "wishes_claim_rate": wishes["claim_rate"], "wishes_days_to_claim": wishes["days_to_claim"],
            "orders": orders["orders"], "orders_rated": orders["rated"], "orders_satisfied": orders["satisfied"],
            "orders_satisfaction_rate": orders["satisfaction_rate"], "volunteer_hours": orders["hours"],
            "party_members_registered": party["registered"], "party_members_active": party["active"],
            "party_member_participation_rate": party["rate"],
        },
    }
