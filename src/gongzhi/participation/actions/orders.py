"""Every write to service orders and the service list: 群众点单 (order), 党支部派单 (dispatch, or open for
taking), 党员接单 (take), done with evidence (complete), 群众评单 (rate: satisfied closes it and counts the hours;
not satisfied sends it back to the branch). Atomic, audited, each step on the order's timeline."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal, InvalidOperation

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from gongzhi.core import audit, workdays
from gongzhi.core.access import SYSTEM
from gongzhi.core.pii import mask_name
from gongzhi.orgs.models import OrgNode, Resident

from .. import policies
from ..models import MAX_HOURS, OrderEvent, OrderStatus, ServiceItem, ServiceOrder
from ..permissions import Perm
from .common import community_of, record_step, text, who

DISPATCH_WORKING_DAYS = 1  # the branch dispatches an order by the end of the next working day
LONGEST_WINDOW = dt.timedelta(days=31)


# --- the service list ------------------------------------------------------------------------------------------


@transaction.atomic
def service_item_save(*, by, community: OrgNode, name: str, description: str = "", is_active: bool = True,
                      item: ServiceItem | None = None) -> ServiceItem:
    """Add an item to a community's service list, or change one (an item ordered before keeps its orders)."""
    if not (by is SYSTEM or getattr(by, "is_authenticated", False) and by.can(Perm.SERVICES_EDIT, community.path)):
        raise PermissionDenied(_("You may change the service list of your own community only."))
    name = text(name, "name", required=True, most=60)
    if ServiceItem.objects.filter(community=community, name=name).exclude(pk=getattr(item, "pk", None)).exists():
        raise ValidationError({"name": _("The service list already has %(name)s.") % {"name": name}})
    item = item or ServiceItem(community=community, org_path=community.path)
    item.name, item.description, item.is_active = name, text(description, "description", block=True, most=1000), is_active
    created = item.pk is None
    item.save()
    audit.record(actor=who(by), action="service.create" if created else "service.update", obj=item,
                 changes={"name": item.name, "is_active": item.is_active})
    return item


# --- orders ----------------------------------------------------------------------------------------------------


@transaction.atomic
def order_place(*, by, resident: Resident, item: ServiceItem, window_start: dt.datetime, window_end: dt.datetime,
                note: str = "") -> ServiceOrder:
    """群众点单: a resident orders for themselves, or a grid worker for them (on a visit, by phone)."""
    household = resident.household
    node = household.micro_grid or household.grid
    own = getattr(by, "is_authenticated", False) and resident.user_id == by.pk
    if not own and not policies.can_place(by, node):
        raise PermissionDenied(_("You may order services for residents of your own area only."))
    community = community_of(node)
    if item.community_id != community.pk or not item.is_active:
        raise ValidationError({"item": _("Choose a service from the list of the resident's community.")})
    now = timezone.now()
    if window_end <= window_start:
        raise ValidationError({"window_end": _("The time window ends before it starts.")})
    if window_end <= now:
        raise ValidationError({"window_end": _("The time window is over already.")})
    if window_end - window_start > LONGEST_WINDOW:
        raise ValidationError({"window_end": _("A time window is at most 31 days.")})
    order = ServiceOrder.objects.create(
        item=item, community=community, node=node, org_path=node.path, resident=resident,
        public_name=mask_name(resident.name), note=text(note, "note", block=True, most=1000),
        window_start=window_start, window_end=window_end, ordered_by=who(by), ordered_at=now,
        dispatch_due=workdays.add_working_days(now, DISPATCH_WORKING_DAYS).at,
    )
    record_step(order, OrderEvent, "order", by, from_status="")
    return order


def _lock(order: ServiceOrder) -> ServiceOrder:
    return ServiceOrder.objects.select_for_update().select_related("resident", "item").get(pk=order.pk)


def _move(order: ServiceOrder, by, step: str, to: str, *, note: str = "", **fields) -> ServiceOrder:
    order = _lock(order)
    policies.order_require(by, order, step)
    before, order.status = order.status, to
    for name, value in fields.items():
        setattr(order, name, value)
    order.save(update_fields=["status", "updated_at", *fields])
    record_step(order, OrderEvent, step, by, from_status=before, note=note)
    return order


@transaction.atomic
def order_dispatch(*, order: ServiceOrder, by, to) -> ServiceOrder:
    """党支部派单 to a party member of the community (who then takes it or not)."""
    if to is None or not policies.may_take_in(to, order):
        raise ValidationError({"to": _("Dispatch to a party member of the order's community.")})
    if policies.is_orderer(to, order):
        raise ValidationError({"to": _("Nobody is dispatched their own order.")})
    return _move(order, by, "dispatch", OrderStatus.DISPATCHED, assignee=to, taker_name=str(to)[:100],
                 dispatched_at=timezone.now())


@transaction.atomic
def order_open(*, order: ServiceOrder, by) -> ServiceOrder:
    """Open for any party member of the community to take (the first one wins)."""
    return _move(order, by, "open", OrderStatus.OPEN, assignee=None, taker_name="", dispatched_at=timezone.now())


@transaction.atomic
def order_take(*, order: ServiceOrder, by) -> ServiceOrder:
    """接单: the member it was dispatched to, or the first of those who take an open order (the row is locked
    while the take is checked and written: of twenty at once, one wins and the others are told who)."""
    return _move(order, by, "take", OrderStatus.TAKEN, assignee=by, taker_name=str(by)[:100], taken_at=timezone.now())


def _hours(value) -> Decimal:
    try:
        hours = Decimal(str(value)).quantize(Decimal("0.1"))
    except (InvalidOperation, ValueError):
        raise ValidationError({"hours": _("Give the hours as a number, e.g. 1.5.")}) from None
    if not Decimal("0.1") <= hours <= MAX_HOURS:
        raise ValidationError({"hours": _("Hours are between 0.1 and %(most)s a day.") % {"most": MAX_HOURS}})
    return hours


@transaction.atomic
def order_complete(*, order: ServiceOrder, by, evidence: str, hours) -> ServiceOrder:
    """Done: what was done and how long it took; the resident rates it."""
    evidence = text(evidence, "evidence", block=True, required=True, most=1000)
    hours = _hours(hours)
    return _move(order, by, "complete", OrderStatus.COMPLETED, note=evidence, evidence=evidence, hours=hours,
                 completed_at=timezone.now())


@transaction.atomic
def order_rate(*, order: ServiceOrder, by, satisfied: bool, comment: str = "") -> ServiceOrder:
    """群众评单: satisfied closes the order (its hours count); not satisfied sends it back to the branch."""
    comment = text(comment, "comment", block=True, most=500)
    if not satisfied and not comment:
        raise ValidationError({"comment": _("Say what was not right, so the branch can put it right.")})
    if satisfied:
        return _move(order, by, "rate", OrderStatus.RATED, note=comment, satisfied=True, rating_comment=comment,
                     rated_at=timezone.now())
    order = _move(order, by, "rate", OrderStatus.RETURNED, note=comment, satisfied=False, rating_comment=comment,
                  rated_at=timezone.now(), return_count=F("return_count") + 1)
    order.refresh_from_db()
    return order


@transaction.atomic
def order_cancel(*, order: ServiceOrder, by, reason: str) -> ServiceOrder:
    reason = text(reason, "reason", required=True, most=200)
    return _move(order, by, "cancel", OrderStatus.CANCELLED, note=reason)
