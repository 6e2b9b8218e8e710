"""The appeals loop (诉求, 接诉即办): categories with deadline policies, routing, appeals and their
timeline, requests that need approval (extension, void), ratings, followers, Open311 clients.

States follow GB/T 30428 (信息采集, 案卷建立, 任务派遣, 任务处理, 处理反馈, 核查结案, 综合评价):
submitted -> dispatched -> accepted -> resolved -> verified -> closed, plus voided and merged.
Every change of state is an action in ``actions.py`` and leaves an ``AppealEvent``.
"""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.db.models.fields.files import FieldFile
from django.db.models.functions import Left, Length
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from gongzhi.orgs.models import PATH_LENGTH, Household, OrgNode, Resident, Unit


class TimeUnit(models.TextChoices):
    NATURAL_HOURS = "natural_hours", _("hours")
    WORKING_HOURS = "working_hours", _("working hours")
    WORKING_DAYS = "working_days", _("working days")
    NATURAL_DAYS = "natural_days", _("days")


class DeadlinePolicy(models.Model):
    """How long a category may take: to respond (签收) and to resolve (办结), from filing."""

    name = models.CharField(_("name"), max_length=50, unique=True)
    response_amount = models.PositiveIntegerField(_("respond within"), default=2)
    response_unit = models.CharField(_("unit"), max_length=16, choices=TimeUnit.choices, default=TimeUnit.WORKING_HOURS)
    resolve_amount = models.PositiveIntegerField(_("resolve within"), default=7)
    resolve_unit = models.CharField(_("unit"), max_length=16, choices=TimeUnit.choices, default=TimeUnit.WORKING_DAYS)
    due_soon_percent = models.PositiveSmallIntegerField(
        _("due soon when this share of the time is left (%)"), default=25
    )
    reopen_on_unsatisfied = models.BooleanField(_("reopen when the resident is unsatisfied"), default=True)
    max_reopens = models.PositiveSmallIntegerField(_("reopen at most"), default=2)

    class Meta:
        verbose_name = _("deadline policy")
        verbose_name_plural = _("deadline policies")
        ordering = ["name"]

    def __str__(self):
        return self.name


class Category(models.Model):
    """A kind of appeal (an Open311 service): admin-editable tree, its form fields, its deadline policy.

    ``form_fields`` is a list of Open311-style attributes:
    ``{"code", "datatype": string|number|datetime|text|singlevaluelist|multivaluelist,
    "required", "description", "order", "values": [{"key", "name"}]}``.
    """

    code = models.SlugField(_("code"), max_length=40, unique=True, help_text=_("Open311 service_code"))
    name = models.CharField(_("name"), max_length=60)
    description = models.TextField(_("description"), blank=True)
    parent = models.ForeignKey(
        "self", verbose_name=_("parent category"), null=True, blank=True, on_delete=models.PROTECT, related_name="children"
    )
    policy = models.ForeignKey(
        DeadlinePolicy, verbose_name=_("deadline policy"), null=True, blank=True, on_delete=models.PROTECT,
        help_text=_("Empty: the parent category's policy"),
    )
    form_fields = models.JSONField(_("form fields"), default=list, blank=True)
    keywords = models.CharField(_("keywords"), max_length=200, blank=True)
    is_active = models.BooleanField(_("active"), default=True)
    sort_order = models.PositiveSmallIntegerField(_("order"), default=0)

    class Meta:
        verbose_name = _("appeal category")
        verbose_name_plural = _("appeal categories")
        ordering = ["sort_order", "code"]

    def __str__(self):
        return self.name


class RoutingRule(models.Model):
    """(org node, category) -> handling unit, inherited down the tree; the deepest node and the most
    specific category win. ``target`` may be the appeal's own grid or community, a fixed node, or a unit."""

    class Target(models.TextChoices):
        OWN_GRID = "own_grid", _("The appeal's own grid")
        OWN_COMMUNITY = "own_community", _("The appeal's own community")
        NODE = "node", _("A fixed org node")
        UNIT = "unit", _("A department or partner unit")

    node = models.ForeignKey(OrgNode, verbose_name=_("applies under"), on_delete=models.CASCADE, related_name="routing_rules")
    org_path = models.CharField(max_length=PATH_LENGTH, db_index=True, editable=False)
    category = models.ForeignKey(
        Category, verbose_name=_("category"), null=True, blank=True, on_delete=models.CASCADE,
        help_text=_("Empty: every category"),
    )
    target = models.CharField(_("handled by"), max_length=16, choices=Target.choices)
    target_node = models.ForeignKey(OrgNode, null=True, blank=True, on_delete=models.CASCADE, related_name="+")
    target_unit = models.ForeignKey(Unit, null=True, blank=True, on_delete=models.CASCADE, related_name="+")
    auto_dispatch = models.BooleanField(_("dispatch automatically"), default=False)

    class Meta:
        verbose_name = _("routing rule")
        verbose_name_plural = _("routing rules")
        constraints = [models.UniqueConstraint(fields=["node", "category"], name="routing_unique_node_category")]


class Channel(models.TextChoices):
    WINDOW = "window", _("Window (窗口接待)")
    ONLINE = "online", _("Online (指尖直通)")
    WISH_WALL = "wish_wall", _("Wish wall (心愿上墙)")
    VISIT = "visit", _("Grid visit (走访)")
    SNAPSHOT = "snapshot", _("Snapshot (随手拍)")
    HOTLINE = "hotline", _("Hotline (热线)")
    MEETING = "meeting", _("Meeting (坝坝会)")


class Status(models.TextChoices):
    SUBMITTED = "submitted", _("Submitted")
    DISPATCHED = "dispatched", _("Dispatched")
    ACCEPTED = "accepted", _("Accepted")
    RESOLVED = "resolved", _("Resolved")
    VERIFIED = "verified", _("Verified")
    CLOSED = "closed", _("Closed")
    VOIDED = "voided", _("Voided")
    MERGED = "merged", _("Merged")


OPEN_STATUSES = (Status.SUBMITTED, Status.DISPATCHED, Status.ACCEPTED, Status.RESOLVED, Status.VERIFIED)
ENDED_STATUSES = (Status.CLOSED, Status.VOIDED, Status.MERGED)

# What each transition needs the appeal to be in (the actions refuse anything else with a TransitionError that
# names these states; ``policies.allowed_actions`` offers an action only in them).
ALLOWED_FROM = {
    "dispatch": (Status.SUBMITTED,),
    "return": (Status.DISPATCHED, Status.ACCEPTED),
    "accept": (Status.DISPATCHED,),
    "resolve": (Status.ACCEPTED,),
    "verify": (Status.RESOLVED,),
    "verify_reject": (Status.RESOLVED,),
    "close": (Status.VERIFIED,),
    "reopen": (Status.RESOLVED, Status.VERIFIED, Status.CLOSED),
    "merge": (Status.SUBMITTED, Status.DISPATCHED, Status.ACCEPTED),
    "void": OPEN_STATUSES,
    "extension_request": (Status.DISPATCHED, Status.ACCEPTED),
    "extension_approve": (Status.DISPATCHED, Status.ACCEPTED),
    "supervise": (Status.SUBMITTED, Status.DISPATCHED, Status.ACCEPTED),
    "rate": (Status.RESOLVED, Status.VERIFIED, Status.CLOSED),
}


def response_overdue(status: str, responded_on_time: bool | None, response_due, now) -> bool:
    """Waiting for its first acceptance (签收) past the response deadline: accepting it now would count as a
    late response (``actions.appeal_accept``). An appeal accepted once and back in a queue after a return or
    a reopen has responded already."""
    return responded_on_time is None and status in (Status.SUBMITTED, Status.DISPATCHED) and now > response_due


class DueState(models.TextChoices):
    NORMAL = "normal", _("On time")
    DUE_SOON = "due_soon", _("Due soon")
    OVERDUE = "overdue", _("Overdue")


class Satisfaction(models.TextChoices):
    SATISFIED = "satisfied", _("Satisfied")
    BASIC = "basic", _("Basically satisfied")
    UNSATISFIED = "unsatisfied", _("Unsatisfied")


class Appeal(models.Model):
    """A resident's request, complaint, report or suggestion and where it stands in the loop.

    ``node``/``org_path`` is where the problem is (derived from the place); ``owner_node`` is the
    first receiver who owns it until it is dispatched (首接负责); ``handler_node``/``handler_unit``
    is who handles it now.
    """

    number = models.CharField(_("number"), max_length=24, unique=True)
    title = models.CharField(_("title"), max_length=120)
    description = models.TextField(_("description"))
    # No index of its own: appeal_category_submitted leads with it (one index less to write on every filing).
    category = models.ForeignKey(Category, verbose_name=_("category"), on_delete=models.PROTECT, related_name="appeals",
                                 db_index=False)
    channel = models.CharField(_("channel"), max_length=16, choices=Channel.choices)
    status = models.CharField(_("status"), max_length=12, choices=Status.choices, default=Status.SUBMITTED)
    due_state = models.CharField(_("deadline"), max_length=10, choices=DueState.choices, default=DueState.NORMAL)

    # where
    node = models.ForeignKey(OrgNode, verbose_name=_("place"), on_delete=models.PROTECT, related_name="appeals")
    org_path = models.CharField(max_length=PATH_LENGTH, editable=False)
    household = models.ForeignKey(Household, null=True, blank=True, on_delete=models.SET_NULL, related_name="appeals")
    address = models.CharField(_("address"), max_length=200, blank=True)
    lng = models.FloatField(null=True, blank=True)
    lat = models.FloatField(null=True, blank=True)
    attributes = models.JSONField(_("details"), default=dict, blank=True)

    # who
    reporter = models.ForeignKey(
        Resident, verbose_name=_("for resident"), null=True, blank=True, on_delete=models.SET_NULL, related_name="appeals"
    )
    reporter_name = models.CharField(_("reporter name"), max_length=50, blank=True)
    reporter_phone_enc = models.TextField(editable=False, blank=True)
    reporter_phone_hash = models.CharField(max_length=40, editable=False, blank=True, db_index=True)
    reporter_phone_masked = models.CharField(_("reporter phone"), max_length=20, editable=False, blank=True)
    filed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("filed by"), null=True, blank=True, on_delete=models.SET_NULL,
        related_name="filed_appeals",
    )
    client = models.ForeignKey(
        "Open311Client", null=True, blank=True, on_delete=models.SET_NULL, related_name="appeals"
    )
    owner_node = models.ForeignKey(OrgNode, verbose_name=_("first receiver"), on_delete=models.PROTECT, related_name="+")
    owner_path = models.CharField(max_length=PATH_LENGTH, editable=False)
    handler_node = models.ForeignKey(
        OrgNode, verbose_name=_("handled by (org)"), null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    # No index of its own: appeal_unit_submitted leads with it (partial, which every unit_id = x lookup can use).
    handler_unit = models.ForeignKey(
        Unit, verbose_name=_("handled by (unit)"), null=True, blank=True, on_delete=models.PROTECT, related_name="appeals",
        db_index=False,
    )
    handler_path = models.CharField(max_length=PATH_LENGTH, blank=True, editable=False)
    accepted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="accepted_appeals"
    )
    merged_into = models.ForeignKey("self", null=True, blank=True, on_delete=models.SET_NULL, related_name="merged")

    # when
    submitted_at = models.DateTimeField(_("submitted"))
    dispatched_at = models.DateTimeField(_("dispatched"), null=True, blank=True)
    accepted_at = models.DateTimeField(_("accepted"), null=True, blank=True)
    resolved_at = models.DateTimeField(_("resolved"), null=True, blank=True)
    verified_at = models.DateTimeField(_("verified"), null=True, blank=True)
    closed_at = models.DateTimeField(_("closed"), null=True, blank=True)
    response_due = models.DateTimeField(_("respond by"))
    resolve_due = models.DateTimeField(_("resolve by"))
    due_soon_at = models.DateTimeField(editable=False)
    deadline_unconfirmed = models.BooleanField(
        _("deadline crosses a year whose holidays are not confirmed"), default=False
    )
    responded_on_time = models.BooleanField(null=True, editable=False)
    resolved_on_time = models.BooleanField(null=True, editable=False)

    # outcome
    result = models.TextField(_("what was done"), blank=True)
    rating_resolved = models.BooleanField(_("resolved, says the resident"), null=True, blank=True)
    satisfaction = models.CharField(_("satisfaction"), max_length=12, choices=Satisfaction.choices, blank=True)
    rating_comment = models.TextField(_("comment"), blank=True)
    rated_at = models.DateTimeField(_("rated"), null=True, blank=True)
    rated_by_callback = models.BooleanField(_("rated in a callback"), default=False)

    # counters for the ledger and the rates
    return_count = models.PositiveSmallIntegerField(default=0)
    reopen_count = models.PositiveSmallIntegerField(default=0)
    supervise_count = models.PositiveSmallIntegerField(default=0)
    extension_count = models.PositiveSmallIntegerField(default=0)
    escalated_at = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("appeal")
        verbose_name_plural = _("appeals")
        ordering = ["-submitted_at", "-id"]
        indexes = [
            # A place's appeals in filing order; with the id, a small area's list and count read the index alone.
            models.Index(fields=["org_path", "submitted_at", "id"], name="appeal_path_submitted_id"),
            models.Index(fields=["handler_path", "status"], name="appeal_handler_status"),
            models.Index(fields=["status", "resolve_due"], name="appeal_status_due"),
            models.Index(fields=["owner_path", "status"], name="appeal_owner_status"),
            # The appeals waiting on someone, by status first: the queues and the staff list's "only mine to act
            # on" seek each status's entries in an area (a range on a path after the status), with the list's
            # order after it, so a page and its count are read from the index alone. Partial: a few per cent
            # of the appeals (selectors.to_act_parts).
            models.Index(fields=["status", "owner_path", "submitted_at", "id"], name="appeal_owned_waiting",
                         condition=models.Q(status__in=[Status.SUBMITTED, Status.RESOLVED, Status.VERIFIED])),
            models.Index(fields=["status", "handler_path", "submitted_at", "id"], name="appeal_handled_waiting",
                         condition=models.Q(status__in=[Status.DISPATCHED, Status.ACCEPTED])),
            # The staff list (views_staff.appeal_list): its order, newest first, and the place last, so that a
            # scan in list order passes over appeals outside the user's area on the index entries alone, without
            # reading them; the same led by each filter that narrows the list much (not the closed appeals, most
            # of them, nor those on time, nor those without a unit).
            models.Index(fields=["submitted_at", "id", "org_path"], name="appeal_submitted_path"),
            models.Index(fields=["status", "submitted_at", "id", "org_path"], name="appeal_status_submitted",
                         condition=~models.Q(status="closed")),
            models.Index(fields=["due_state", "submitted_at", "id", "org_path"], name="appeal_due_submitted",
                         condition=~models.Q(due_state="normal")),
            models.Index(fields=["channel", "submitted_at", "id", "org_path"], name="appeal_channel_submitted"),
            models.Index(fields=["category", "submitted_at", "id", "org_path"], name="appeal_category_submitted"),
            models.Index(fields=["handler_unit", "submitted_at", "id", "org_path"], name="appeal_unit_submitted",
                         condition=models.Q(handler_unit__isnull=False)),
            # 1 when the handler or the first receiver is not the place's node nor above it, else 0: the few
            # appeals a user sees outside their area because they handle or own them (selectors.visibility_arms),
            # and statistics that tell PostgreSQL how few.
            models.Index(
                models.Case(
                    models.When(
                        ~models.Q(handler_path=Left("org_path", Length("handler_path")))
                        | ~models.Q(owner_path=Left("org_path", Length("owner_path"))),
                        then=models.Value(1),
                    ),
                    default=models.Value(0), output_field=models.IntegerField(),
                ),
                name="appeal_cross_area",
            ),
        ]

    def __str__(self):
        return f"{self.number} {self.title}"

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_STATUSES


class AppealEvent(models.Model):
    """One step on an appeal's timeline: who did what, the state before and after, notes for staff
    and a plain-Chinese line for the resident."""

    appeal = models.ForeignKey(Appeal, on_delete=models.CASCADE, related_name="events")
    at = models.DateTimeField(_("time"))
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    actor_name = models.CharField(max_length=150, blank=True)
    kind = models.CharField(_("action"), max_length=24, db_index=True)
    from_status = models.CharField(max_length=12, blank=True)
    to_status = models.CharField(max_length=12, blank=True)
    note = models.TextField(_("note"), blank=True)
    public = models.BooleanField(_("shown to the resident"), default=True)
    data = models.JSONField(default=dict, blank=True)

    class Meta:
        verbose_name = _("appeal event")
        verbose_name_plural = _("appeal events")
        ordering = ["at", "id"]


_PHOTO_MAGIC = ((b"\xff\xd8\xff", "jpg"), (b"\x89PNG\r\n\x1a\n", "png"), (b"GIF8", "gif"))


def photo_extension(head: bytes) -> str:
    """The file extension for what an image's first 12 bytes show it is (jpg, png, webp, gif), "bin" for
    anything else. The uploader's name says nothing: ``evil.php.jpg`` holding a PNG is a png."""
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "webp"
    return next((ext for magic, ext in _PHOTO_MAGIC if head.startswith(magic)), "bin")


class PhotoFieldFile(FieldFile):
    """Reads the first bytes of what is being saved, so that ``upload_to`` can name the file after them."""

    head = b""

    def save(self, name, content, save=True):
        content.seek(0)
        self.head = content.read(12)
        content.seek(0)
        super().save(name, content, save)


class PhotoField(models.FileField):
    attr_class = PhotoFieldFile

    def deconstruct(self):
        # The same column as a FileField: migrations keep the plain field (no table rebuild on SQLite).
        name, _path, args, kwargs = super().deconstruct()
        return name, "django.db.models.FileField", args, kwargs


def _photo_upload_to(photo, filename):
    """``appeals/<year>/<month>/<random>.<ext>``: the uploader's file name is dropped, the extension comes
    from the content."""
    ext = photo_extension(photo.image.head)
    return f"appeals/{timezone.localdate():%Y/%m}/{uuid.uuid4().hex}.{ext}"


class AppealPhoto(models.Model):
    """A photo attached when filing or resolving."""

    appeal = models.ForeignKey(Appeal, on_delete=models.CASCADE, related_name="photos")
    event = models.ForeignKey(AppealEvent, null=True, blank=True, on_delete=models.SET_NULL, related_name="photos")
    image = PhotoField(upload_to=_photo_upload_to, max_length=200)
    uploaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("appeal photo")
        verbose_name_plural = _("appeal photos")


class AppealRequest(models.Model):
    """A request that needs approval: an extension (延期) or voiding (作废). Kept for the ledger."""

    class Kind(models.TextChoices):
        EXTENSION = "extension", _("Extension")
        VOID = "void", _("Void")

    class State(models.TextChoices):
        PENDING = "pending", _("Pending")
        APPROVED = "approved", _("Approved")
        REJECTED = "rejected", _("Rejected")

    appeal = models.ForeignKey(Appeal, on_delete=models.CASCADE, related_name="requests")
    kind = models.CharField(max_length=10, choices=Kind.choices)
    state = models.CharField(max_length=10, choices=State.choices, default=State.PENDING)
    reason = models.TextField(_("reason"))
    extend_days = models.PositiveSmallIntegerField(_("extra working days"), null=True, blank=True)
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    requested_at = models.DateTimeField()
    decided_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    decided_at = models.DateTimeField(null=True, blank=True)
    decision_note = models.TextField(blank=True)

    class Meta:
        verbose_name = _("appeal request")
        verbose_name_plural = _("appeal requests")
        constraints = [
            models.UniqueConstraint(
                fields=["appeal", "kind"], condition=models.Q(state="pending"), name="appealrequest_one_pending"
            )
        ]


class AppealFollower(models.Model):
    """Someone told of the outcome: the reporter, and the reporters of appeals merged into this one."""

    appeal = models.ForeignKey(Appeal, on_delete=models.CASCADE, related_name="followers")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.CASCADE, related_name="+")
    resident = models.ForeignKey(Resident, null=True, blank=True, on_delete=models.CASCADE, related_name="+")
    from_appeal = models.ForeignKey(Appeal, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    notified_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("appeal follower")
        verbose_name_plural = _("appeal followers")


class Open311Client(models.Model):
    """An Open311 client application with its api_key (only the hash is stored)."""

    name = models.CharField(_("name"), max_length=100)
    key_hash = models.CharField(max_length=64, unique=True, editable=False)
    prefix = models.CharField(max_length=12, editable=False)
    node = models.ForeignKey(OrgNode, verbose_name=_("jurisdiction"), on_delete=models.PROTECT, related_name="+")
    issued_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("Open311 client")
        verbose_name_plural = _("Open311 clients")

    def __str__(self):
        return self.name
