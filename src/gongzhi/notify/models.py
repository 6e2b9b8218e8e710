"""Notifications: in-app notices, group-robot endpoints (WeCom, DingTalk, Feishu), the outbox of
messages to send (robots and e-mail)."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from gongzhi.core.pii import decrypt
from gongzhi.orgs.models import PATH_LENGTH, OrgNode, Unit


class Notice(models.Model):
    """A message in one user's in-app inbox: new work, a deadline, an outcome. ``key`` makes each
    notice once per user and occasion (an event, a deadline), so a task run twice adds nothing. It is
    shown in the reader's language, from ``kind`` and ``params``."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notices")
    kind = models.CharField(_("kind"), max_length=24)
    title = models.CharField(_("title"), max_length=200)
    body = models.TextField(_("message"), blank=True)
    # The facts the notice names (number, title, place, deadline, note ...): with ``kind`` they say it again
    # in each reader's language (``messages.notice_shown``); title and body are the site's words.
    params = models.JSONField(_("details"), default=dict, blank=True)
    url = models.CharField(_("link"), max_length=300, blank=True)
    appeal = models.ForeignKey("appeals.Appeal", null=True, blank=True, on_delete=models.CASCADE, related_name="+")
    key = models.CharField(max_length=80, blank=True, editable=False)
    created_at = models.DateTimeField(_("time"), default=timezone.now)
    read_at = models.DateTimeField(_("read"), null=True, blank=True)

    class Meta:
        verbose_name = _("notice")
        verbose_name_plural = _("notices")
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["user", "-created_at"], name="notice_user_created"),
            # The unread badge on every page: a count over this small partial index.
            models.Index(fields=["user"], condition=Q(read_at__isnull=True), name="notice_unread"),
        ]
        constraints = [
            models.UniqueConstraint(fields=["user", "key"], condition=~Q(key=""), name="notice_unique_key"),
        ]

    def __str__(self):
        return self.title


class WebhookKind(models.TextChoices):
    WECOM = "wecom", _("WeCom group robot (企业微信)")
    DINGTALK = "dingtalk", _("DingTalk group robot (钉钉)")
    FEISHU = "feishu", _("Feishu group robot (飞书)")


class WebhookEvent(models.TextChoices):
    DISPATCH = "dispatch", pgettext_lazy("webhook event", "Dispatched")
    DUE_SOON = "due_soon", pgettext_lazy("webhook event", "Due soon")
    OVERDUE = "overdue", pgettext_lazy("webhook event", "Overdue")
    SUPERVISE = "supervise", pgettext_lazy("webhook event", "Supervised")


class WebhookEndpoint(models.Model):
    """A group robot that hears of the appeals whose place lies under ``node`` (and, when ``unit`` is
    set, only those handled by that unit) for the events ticked. The webhook address carries the
    robot's access key and the signing secret is a credential: both are stored encrypted."""

    name = models.CharField(_("name"), max_length=100)
    kind = models.CharField(_("kind"), max_length=16, choices=WebhookKind.choices)
    url_enc = models.TextField(editable=False)
    url_hint = models.CharField(_("webhook address"), max_length=120, editable=False)
    secret_enc = models.TextField(editable=False, blank=True)
    node = models.ForeignKey(OrgNode, verbose_name=_("covers appeals under"), on_delete=models.PROTECT, related_name="+")
    org_path = models.CharField(max_length=PATH_LENGTH, db_index=True, editable=False)
    unit = models.ForeignKey(
        Unit, verbose_name=_("only appeals handled by"), null=True, blank=True, on_delete=models.CASCADE,
        related_name="+",
    )
    on_dispatch = models.BooleanField(pgettext_lazy("webhook event", "Dispatched"), default=True)
    on_due_soon = models.BooleanField(pgettext_lazy("webhook event", "Due soon"), default=True)
    on_overdue = models.BooleanField(pgettext_lazy("webhook event", "Overdue"), default=True)
    on_supervise = models.BooleanField(pgettext_lazy("webhook event", "Supervised"), default=True)
    is_active = models.BooleanField(pgettext_lazy("webhook", "Active"), default=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                   related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("group robot")
        verbose_name_plural = _("group robots")
        ordering = ["org_path", "name"]

    def __str__(self):
        return self.name

    @property
    def url(self) -> str:
        return decrypt(self.url_enc)

    @property
    def secret(self) -> str:
        return decrypt(self.secret_enc)

    @property
    def has_secret(self) -> bool:
        return bool(self.secret_enc)

    def wants(self, event: str) -> bool:
        return bool(getattr(self, f"on_{event}", False))

    def event_labels(self) -> list[str]:
        return [str(e.label) for e in WebhookEvent if self.wants(e.value)]


class Delivery(models.Model):
    """One message in the outbox: to a group robot (``endpoint``) or by e-mail (``user``). Sent by the
    task worker; a failure is retried with backoff (``next_attempt_at``) until ``MAX_ATTEMPTS``.
    ``locked_until`` is the claim of the worker sending it, so it is never sent twice."""

    class Status(models.TextChoices):
        PENDING = "pending", pgettext_lazy("delivery", "Waiting")
        SENT = "sent", pgettext_lazy("delivery", "Sent")
        FAILED = "failed", pgettext_lazy("delivery", "Failed")

    endpoint = models.ForeignKey(WebhookEndpoint, null=True, blank=True, on_delete=models.CASCADE,
                                 related_name="deliveries")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.CASCADE,
                             related_name="+")
    event = models.CharField(_("event"), max_length=24)
    appeal = models.ForeignKey("appeals.Appeal", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    key = models.CharField(max_length=80, blank=True, editable=False)
    payload = models.JSONField(default=dict)
    status = models.CharField(_("status"), max_length=8, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    last_error = models.TextField(_("last error"), blank=True)
    next_attempt_at = models.DateTimeField(_("next attempt"), default=timezone.now)
    locked_until = models.DateTimeField(null=True, blank=True, editable=False)
    created_at = models.DateTimeField(_("created"), default=timezone.now)
    sent_at = models.DateTimeField(_("sent"), null=True, blank=True)

    class Meta:
        verbose_name = _("delivery")
        verbose_name_plural = _("deliveries")
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["next_attempt_at"], condition=Q(status="pending"), name="delivery_pending_due"),
        ]
        constraints = [
            models.UniqueConstraint(fields=["endpoint", "key"], condition=Q(endpoint__isnull=False) & ~Q(key=""),
                                    name="delivery_unique_endpoint_key"),
            models.UniqueConstraint(fields=["user", "key"], condition=Q(user__isnull=False) & ~Q(key=""),
                                    name="delivery_unique_user_key"),
        ]

    def __str__(self):
        return f"{self.event} → {self.endpoint or self.user}"

    @property
    def event_label(self) -> str:
        if self.event == "test":
            return str(pgettext_lazy("webhook event", "Test message"))
        return str(WebhookEvent(self.event).label) if self.event in WebhookEvent.values else self.event
