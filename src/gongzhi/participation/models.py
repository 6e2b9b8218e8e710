"""Micro-wishes (微心愿): collected, verified, published on the wish wall, claimed by one claimant, fulfilled,
thanked; every step a dated, attributed entry of the wish's timeline."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from gongzhi.orgs.models import PATH_LENGTH, OrgNode, PartyMember, Resident, Unit


class WishStatus(models.TextChoices):
    COLLECTED = "collected", pgettext_lazy("wish status", "collected")
    VERIFIED = "verified", pgettext_lazy("wish status", "verified")
    PUBLISHED = "published", pgettext_lazy("wish status", "open for claiming")
    CLAIMED = "claimed", pgettext_lazy("wish status", "claimed")
    FULFILLED = "fulfilled", pgettext_lazy("wish status", "fulfilled")
    REJECTED = "rejected", pgettext_lazy("wish status", "not taken up")


class WishKind(models.TextChoices):
    GOODS = "goods", _("Goods (school bag, wheelchair ...)")
    SERVICE = "service", _("A service (repairs, a haircut ...)")
    VISIT = "visit", _("A visit or company")
    OTHER = "other", _("Something else")


class WishChannel(models.TextChoices):
    WISH_WALL = "wish_wall", _("Wish wall")
    VISIT = "visit", _("Home visit")
    ONLINE = "online", _("Online")


# Which step may follow which: the actions refuse anything else with a message saying why.
ALLOWED_FROM = {
    "verify": (WishStatus.COLLECTED,),
    "publish": (WishStatus.VERIFIED,),
    "reject": (WishStatus.COLLECTED, WishStatus.VERIFIED, WishStatus.PUBLISHED),
    "claim": (WishStatus.PUBLISHED,),
    "release": (WishStatus.CLAIMED,),
    "fulfil": (WishStatus.CLAIMED,),
    "thank": (WishStatus.FULFILLED,),
}


# The steps in the words of the timeline and the refusals.
STEP_WORDS = {
    "collect": _("taken down"), "verify": _("verified"), "publish": _("published"), "reject": _("turned down"),
    "claim": _("claimed"), "release": _("handed back"), "fulfil": _("fulfilled"), "thank": _("thanked"),
}


class Wish(models.Model):
    """A resident's small wish. The resident's identity is shown whole only to staff of the area; the wall shows
    the surname and the micro-grid (``public_name``)."""

    community = models.ForeignKey(OrgNode, verbose_name=_("community"), on_delete=models.PROTECT, related_name="+")
    node = models.ForeignKey(OrgNode, verbose_name=_("place"), on_delete=models.PROTECT, related_name="wishes",
                             help_text=_("The resident's grid or micro-grid"))
    org_path = models.CharField(max_length=PATH_LENGTH, db_index=True, editable=False)
    resident = models.ForeignKey(Resident, verbose_name=_("resident"), on_delete=models.PROTECT, related_name="wishes")
    public_name = models.CharField(_("name on the wall"), max_length=20, editable=False)
    title = models.CharField(_("wish"), max_length=60)
    description = models.TextField(_("details"), blank=True)
    kind = models.CharField(_("kind"), max_length=16, choices=WishKind.choices, default=WishKind.GOODS)
    channel = models.CharField(_("channel"), max_length=16, choices=WishChannel.choices, default=WishChannel.VISIT)
    status = models.CharField(_("status"), max_length=16, choices=WishStatus.choices, default=WishStatus.COLLECTED)
    collected_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                     related_name="+")
    collected_at = models.DateTimeField(_("collected"))
    verified_at = models.DateTimeField(_("verified"), null=True, blank=True)
    published_at = models.DateTimeField(_("published"), null=True, blank=True)
    claimed_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                   related_name="claimed_wishes", verbose_name=_("claimed by"))
    claimed_unit = models.ForeignKey(Unit, null=True, blank=True, on_delete=models.SET_NULL, related_name="claimed_wishes",
                                     verbose_name=_("claimed for unit"))
    claimant_name = models.CharField(_("claimant"), max_length=100, blank=True)
    claimed_at = models.DateTimeField(_("claimed"), null=True, blank=True)
    fulfilled_at = models.DateTimeField(_("fulfilled"), null=True, blank=True)
    fulfilment_note = models.TextField(_("how it was fulfilled"), blank=True)
    thanks_note = models.TextField(_("thanks"), blank=True)
    reject_reason = models.CharField(_("why not taken up"), max_length=200, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("micro-wish")
        verbose_name_plural = _("micro-wishes")
        indexes = [
            models.Index(fields=["org_path", "status", "-collected_at"], name="wish_path_status"),
            models.Index(fields=["community", "status", "-published_at"], name="wish_wall"),
        ]

    def __str__(self):
        return self.title


class Step(models.Model):
    """One step in the life of a wish or a service order (its timeline); never edited. ``WORDS`` names the
    kinds of step."""

    at = models.DateTimeField()
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                              related_name="+")
    actor_name = models.CharField(max_length=150, blank=True)
    kind = models.CharField(max_length=16)
    from_status = models.CharField(max_length=16, blank=True)
    to_status = models.CharField(max_length=16, blank=True)
    note = models.TextField(blank=True)

    WORDS: dict = {}

    def get_kind_display(self) -> str:
        return str(self.WORDS.get(self.kind, self.kind))

    class Meta:
        abstract = True
        ordering = ["at", "id"]


class WishEvent(Step):
    """One step in a wish's life."""

    WORDS = STEP_WORDS
    wish = models.ForeignKey(Wish, on_delete=models.CASCADE, related_name="events")

    class Meta(Step.Meta):
        verbose_name = _("wish step")
        verbose_name_plural = _("wish steps")


# --- service orders: 群众点单、党支部派单、党员/志愿者接单、群众评单 ------------------------------------------------


class ServiceItem(models.Model):
    """An item of a community's service list (服务清单): what residents may order from its party members and
    volunteers (a haircut for the elderly, tutoring, small repairs, company, shopping for the housebound)."""

    community = models.ForeignKey(OrgNode, verbose_name=_("community"), on_delete=models.PROTECT,
                                  related_name="service_items")
    org_path = models.CharField(max_length=PATH_LENGTH, db_index=True, editable=False)
    name = models.CharField(_("service"), max_length=60)
    description = models.TextField(_("what it includes"), blank=True)
    is_active = models.BooleanField(_("offered"), default=True)
    sort_order = models.PositiveSmallIntegerField(_("order"), default=0)

    class Meta:
        verbose_name = _("service item")
        verbose_name_plural = _("service list")
        ordering = ["sort_order", "id"]
        constraints = [models.UniqueConstraint(fields=["community", "name"], name="serviceitem_unique_name")]

    def __str__(self):
        return self.name


class OrderStatus(models.TextChoices):
    ORDERED = "ordered", pgettext_lazy("order status", "ordered")
    OPEN = "open", pgettext_lazy("order status", "open for taking")
    DISPATCHED = "dispatched", pgettext_lazy("order status", "dispatched")
    TAKEN = "taken", pgettext_lazy("order status", "taken")
    COMPLETED = "completed", pgettext_lazy("order status", "done, to rate")
    RATED = "rated", pgettext_lazy("order status", "rated")
    RETURNED = "returned", pgettext_lazy("order status", "back with the branch")
    CANCELLED = "cancelled", pgettext_lazy("order status", "cancelled")


ORDER_FROM = {
    "dispatch": (OrderStatus.ORDERED, OrderStatus.RETURNED, OrderStatus.OPEN, OrderStatus.DISPATCHED),
    "open": (OrderStatus.ORDERED, OrderStatus.RETURNED, OrderStatus.DISPATCHED),
    "take": (OrderStatus.OPEN, OrderStatus.DISPATCHED),
    "complete": (OrderStatus.TAKEN,),
    "rate": (OrderStatus.COMPLETED,),
    "cancel": (OrderStatus.ORDERED, OrderStatus.OPEN, OrderStatus.DISPATCHED, OrderStatus.RETURNED),
}
ORDER_STEP_WORDS = {
    "order": _("ordered"), "dispatch": _("dispatched"), "open": _("opened for taking"), "take": _("taken"),
    "complete": _("done"), "rate": _("rated"), "cancel": _("cancelled"),
}
MAX_HOURS = 24  # a day's service at most; longer work is several orders


class ServiceOrder(models.Model):
    """A resident's order of an item of the service list, for a time window; dispatched by the branch (or the
    community's staff) to a party member, or opened for any of them to take; done with evidence; rated by the
    resident (a good rating counts the hours; a bad one goes back to the branch)."""

    item = models.ForeignKey(ServiceItem, verbose_name=_("service"), on_delete=models.PROTECT, related_name="orders")
    community = models.ForeignKey(OrgNode, verbose_name=_("community"), on_delete=models.PROTECT, related_name="+")
    node = models.ForeignKey(OrgNode, verbose_name=_("place"), on_delete=models.PROTECT, related_name="service_orders")
    org_path = models.CharField(max_length=PATH_LENGTH, db_index=True, editable=False)
    resident = models.ForeignKey(Resident, verbose_name=_("for"), on_delete=models.PROTECT, related_name="service_orders")
    public_name = models.CharField(_("name shown to takers"), max_length=20, editable=False)
    note = models.TextField(_("what is needed"), blank=True)
    window_start = models.DateTimeField(_("from"))
    window_end = models.DateTimeField(_("until"))
    status = models.CharField(_("status"), max_length=16, choices=OrderStatus.choices, default=OrderStatus.ORDERED)
    ordered_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                   related_name="+")
    ordered_at = models.DateTimeField(_("ordered"))
    dispatch_due = models.DateTimeField(_("dispatch by"))
    assignee = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                 related_name="service_orders", verbose_name=_("taken by"))
    taker_name = models.CharField(_("taker"), max_length=100, blank=True)
    dispatched_at = models.DateTimeField(null=True, blank=True)
    taken_at = models.DateTimeField(null=True, blank=True)
    completed_at = models.DateTimeField(null=True, blank=True)
    evidence = models.TextField(_("what was done"), blank=True)
    hours = models.DecimalField(_("hours"), max_digits=4, decimal_places=1, null=True, blank=True)
    satisfied = models.BooleanField(_("satisfied"), null=True, blank=True)
    rating_comment = models.TextField(_("comment"), blank=True)
    rated_at = models.DateTimeField(null=True, blank=True)
    return_count = models.PositiveSmallIntegerField(default=0)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("service order")
        verbose_name_plural = _("service orders")
        indexes = [
            models.Index(fields=["org_path", "status", "-ordered_at"], name="order_path_status"),
            models.Index(fields=["assignee", "status"], name="order_assignee"),
        ]

    def __str__(self):
        return f"{self.item} · {self.public_name}"


class OrderEvent(Step):
    """One step in a service order's life."""

    WORDS = ORDER_STEP_WORDS
    order = models.ForeignKey(ServiceOrder, on_delete=models.CASCADE, related_name="events")

    class Meta(Step.Meta):
        verbose_name = _("service order step")
        verbose_name_plural = _("service order steps")


# --- party members at work: 双报到 and 下沉 ------------------------------------------------------------------------


class DualStatus(models.TextChoices):
    PENDING = "pending", pgettext_lazy("dual registration", "waiting for the community")
    CONFIRMED = "confirmed", pgettext_lazy("dual registration", "confirmed")
    DECLINED = "declined", pgettext_lazy("dual registration", "declined")


class DualRegistration(models.Model):
    """An in-service party member reports to the community where they live (双报到); the community's party
    organisation confirms and assigns them to a micro-grid (下沉), where they look after households and take
    the community's orders and wishes."""

    member = models.ForeignKey(PartyMember, verbose_name=_("party member"), on_delete=models.PROTECT,
                               related_name="dual_registrations")
    community = models.ForeignKey(OrgNode, verbose_name=_("community"), on_delete=models.PROTECT, related_name="+")
    org_path = models.CharField(max_length=PATH_LENGTH, db_index=True, editable=False)
    skills = models.CharField(_("what I can do"), max_length=200, blank=True)
    availability = models.CharField(_("when I can help"), max_length=100, blank=True)
    status = models.CharField(_("status"), max_length=12, choices=DualStatus.choices, default=DualStatus.PENDING)
    requested_at = models.DateTimeField(_("reported"))
    decided_at = models.DateTimeField(_("decided"), null=True, blank=True)
    decided_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                   related_name="+")
    micro_grid = models.ForeignKey(OrgNode, verbose_name=_("assigned to"), null=True, blank=True,
                                   on_delete=models.PROTECT, related_name="+")
    decline_reason = models.CharField(_("why declined"), max_length=200, blank=True)

    class Meta:
        verbose_name = _("dual registration")
        verbose_name_plural = _("dual registrations")
        constraints = [models.UniqueConstraint(fields=["member"], condition=models.Q(status__in=["pending", "confirmed"]),
                                               name="dualregistration_one_open")]

    def __str__(self):
        return f"{self.member} → {self.community}"
