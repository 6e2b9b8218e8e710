"""Every write of the notification app: notices and outbox rows for an appeal event or a deadline,
sending one outbox row (claimed, retried with backoff), robot endpoints, marking notices read.

Notices and deliveries carry a key (one per user or endpoint and occasion), so a task that runs twice
adds nothing. Making them is not audited (they are derived from audited appeal actions, and the
outbox is their record); endpoint changes and test sends are.
"""

from __future__ import annotations

import datetime as dt
import urllib.parse

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.mail import send_mail
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import override

from gongzhi.accounts.models import User
from gongzhi.appeals.permissions import Perm
from gongzhi.appeals.models import Appeal, AppealEvent, AppealFollower
from gongzhi.core import audit
from gongzhi.core.pii import encrypt

from . import channels, messages, selectors
from .models import Delivery, Notice, WebhookEndpoint, WebhookEvent, WebhookKind

MAX_ATTEMPTS = 5
BACKOFF = (dt.timedelta(minutes=1), dt.timedelta(minutes=5), dt.timedelta(minutes=30), dt.timedelta(hours=2))
LEASE = dt.timedelta(minutes=2)  # a sender that died mid-send frees its delivery after this

EVENT_KINDS = ("dispatch", "return", "reopen", "supervise", "resolve", "close")
DEADLINE_KINDS = ("due_soon", "overdue", "escalate")
ROBOT_EVENTS = tuple(WebhookEvent.values)

_APPEAL_RELATED = ("category", "node", "owner_node", "handler_node", "handler_unit", "reporter", "filed_by")


def email_enabled() -> bool:
    """E-mail goes out when a mail server is configured (or a non-SMTP backend is, e.g. in tests)."""
    backend = getattr(settings, "EMAIL_BACKEND", "")
    return bool(getattr(settings, "EMAIL_HOST", "")) or not backend.endswith("smtp.EmailBackend")


class _Batch:
    """Per-task memo: many appeals of one batch share handlers, places and robot endpoints."""

    def __init__(self):
        self.memo: dict = {}

    def get(self, key, fn):
        if key not in self.memo:
            self.memo[key] = fn()
        return self.memo[key]

    def recipients(self, group: str, appeal: Appeal) -> set[int]:
        key = (group, appeal.handler_unit_id, appeal.handler_path, appeal.owner_path)
        if group == "followers":
            key = (group, appeal.pk)
        return self.get(key, lambda: getattr(selectors, group)(appeal))

    def place(self, appeal: Appeal) -> str:
        return self.get(("place", appeal.org_path, appeal.address), lambda: selectors.place_label(appeal))

    def endpoints(self, appeal: Appeal, event: str):
        return self.get(("robots", event, appeal.org_path, appeal.handler_unit_id),
                        lambda: selectors.endpoints_for(appeal, event))


_WHO = {
    "dispatch": ("handlers",), "reopen": ("handlers",), "return": ("dispatchers",),
    "supervise": ("handlers", "supervisors"), "resolve": ("followers",), "close": ("followers",),
    "due_soon": ("handlers",), "overdue": ("handlers",), "escalate": ("supervisors",),
}


def _tell(batch: _Batch, appeal: Appeal, kind: str, key: str, *, note: str = "", skip: int | None = None) -> list[int]:
    """Make the notices (and e-mails) and robot messages of one occasion; returns new outbox row ids."""
    users: set[int] = set()
    for group in _WHO[kind]:
        users |= batch.recipients(group, appeal)
    users.discard(skip)
    place = batch.place(appeal)
    resident = kind in messages.REPORTER_KINDS
    params = messages.notice_params(kind, appeal, note=note, place=place)
    text = messages.render_notice(kind, params)
    url = messages.appeal_url(appeal.pk, resident=resident)
    now = timezone.now()
    Notice.objects.bulk_create(
        [Notice(user_id=u, kind=kind, title=text.title[:200], body=text.body, params=params, url=url, appeal=appeal,
                key=key, created_at=now) for u in sorted(users)],
        ignore_conflicts=True,
    )
    outbox = []
    if users and email_enabled():
        mailable = User.objects.filter(pk__in=users, is_active=True).exclude(email="").values_list("pk", flat=True)
        body = f"{text.body}\n\n{messages.base_url()}{url}"
        outbox += [Delivery(user_id=u, event=kind, appeal=appeal, key=key, next_attempt_at=now, created_at=now,
                            payload={"subject": text.title, "body": body}) for u in mailable]
    if kind in ROBOT_EVENTS:
        for endpoint in batch.endpoints(appeal, kind):
            msg = messages.robot_message(kind, appeal, note=note, place=place)
            outbox.append(Delivery(endpoint=endpoint, event=kind, appeal=appeal, key=key, next_attempt_at=now,
                                   created_at=now, payload=channels.build(endpoint.kind, msg)))
    if not outbox:
        return []
    Delivery.objects.bulk_create(outbox, ignore_conflicts=True)
    return list(Delivery.objects.filter(key=key, appeal=appeal, status=Delivery.Status.PENDING, attempts=0)
                .values_list("id", flat=True))


@transaction.atomic
def notify_event(*, event_id: int) -> list[int]:
    """Notices, e-mails and robot messages for one appeal event (dispatch, return, reopen, supervise,
    resolve, close); the actor is not told of their own action. Returns the outbox rows to send."""
    event = AppealEvent.objects.filter(pk=event_id).first()
    if event is None or event.kind not in EVENT_KINDS:
        return []
    appeal = Appeal.objects.select_related(*_APPEAL_RELATED).get(pk=event.appeal_id)
    with override(settings.LANGUAGE_CODE):
        sends = _tell(_Batch(), appeal, event.kind, f"event:{event.pk}", note=event.note, skip=event.actor_id)
    if event.kind in messages.REPORTER_KINDS:
        AppealFollower.objects.filter(appeal=appeal, notified_at__isnull=True).update(notified_at=timezone.now())
    return sends


def _deadline_key(kind: str, appeal: Appeal) -> str:
    # Once per appeal and state *for this deadline*: an extension or a reopening starts a new one.
    moment = appeal.escalated_at if kind == "escalate" and appeal.escalated_at else appeal.resolve_due
    return f"{kind}:{appeal.pk}:{int(moment.timestamp())}"


@transaction.atomic
def notify_deadline(*, kind: str, appeal_ids: list[int]) -> list[int]:
    """Notices and robot messages for appeals the sweep marked due soon or overdue, or escalated."""
    if kind not in DEADLINE_KINDS:
        return []
    batch, sends = _Batch(), []
    with override(settings.LANGUAGE_CODE):
        for appeal in Appeal.objects.filter(pk__in=appeal_ids).select_related(*_APPEAL_RELATED).order_by("pk"):
            sends += _tell(batch, appeal, kind, _deadline_key(kind, appeal))
    return sends


# --- sending ------------------------------------------------------------------------------------


def due_deliveries(now: dt.datetime | None = None):
    """Outbox rows to (re)try now: failed ones whose backoff has passed, and first attempts whose own
    task seems lost (still waiting a minute after they were made)."""
    now = now or timezone.now()
    free = Q(locked_until__isnull=True) | Q(locked_until__lt=now)
    return Delivery.objects.filter(free, status=Delivery.Status.PENDING).filter(
        Q(attempts__gt=0, next_attempt_at__lte=now) | Q(attempts=0, next_attempt_at__lte=now - dt.timedelta(minutes=1))
    )


class _GiveUp(channels.DeliveryError):
    """A failure that retrying cannot mend (the robot was switched off, the user has no address)."""


def delivery_send(*, delivery_id: int, now: dt.datetime | None = None) -> str:
    """Send one outbox row unless it is sent, failed for good, not due yet or being sent by someone
    else. Returns "sent", "retry", "failed" or "skipped"."""
    now = now or timezone.now()
    claimed = (
        Delivery.objects.filter(pk=delivery_id, status=Delivery.Status.PENDING, next_attempt_at__lte=now)
        .filter(Q(locked_until__isnull=True) | Q(locked_until__lt=now))
        .update(locked_until=now + LEASE, attempts=F("attempts") + 1)
    )
    if not claimed:
        return "skipped"
    delivery = Delivery.objects.select_related("endpoint", "user").get(pk=delivery_id)
    try:
        _send(delivery)
    except Exception as exc:  # any failure is recorded on the row and retried
        error = str(exc)[:1000] or exc.__class__.__name__
        final = delivery.attempts >= MAX_ATTEMPTS or isinstance(exc, _GiveUp)
        Delivery.objects.filter(pk=delivery_id).update(
            status=Delivery.Status.FAILED if final else Delivery.Status.PENDING, last_error=error, locked_until=None,
            next_attempt_at=now if final else now + BACKOFF[min(delivery.attempts, len(BACKOFF)) - 1],
        )
        return "failed" if final else "retry"
    Delivery.objects.filter(pk=delivery_id).update(status=Delivery.Status.SENT, sent_at=timezone.now(),
                                                   last_error="", locked_until=None)
    return "sent"


def _send(delivery: Delivery) -> None:
    if delivery.endpoint_id:
        endpoint = delivery.endpoint
        if not endpoint.is_active and delivery.event != "test":
            raise _GiveUp(_("The robot was switched off."))
        channels.post(endpoint.kind, endpoint.url, endpoint.secret, delivery.payload)
        return
    user = delivery.user
    if user is None or not user.email or not user.is_active:
        raise _GiveUp(_("No e-mail address."))
    send_mail(delivery.payload.get("subject", ""), delivery.payload.get("body", ""), None, [user.email])


# --- robot endpoints ----------------------------------------------------------------------------


def _url_hint(url: str) -> str:
    """Enough to recognise the address, not enough to use it: its access key is the credential."""
    parts = urllib.parse.urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}/…{url[-4:]}"


def _check_url(url: str) -> str:
    url = (url or "").strip()
    parts = urllib.parse.urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ValidationError(_("Enter the robot's webhook address (https://…)."))
    return url


@transaction.atomic
def endpoint_save(
    *, by, name: str, kind: str, node, endpoint: WebhookEndpoint | None = None, url: str = "", secret: str = "",
    clear_secret: bool = False, unit=None, on_dispatch: bool = True, on_due_soon: bool = True,
    on_overdue: bool = True, on_supervise: bool = True, is_active: bool = True,
) -> WebhookEndpoint:
    """Add or change a group robot. County administrators manage all; subdistrict staff their subtree.
    A blank address or secret on an existing robot keeps the stored one."""
    if not by.can(Perm.APPEALS_ADMIN, node.path) or (endpoint is not None and not by.can(Perm.APPEALS_ADMIN, endpoint.org_path)):
        raise PermissionDenied(_("You may manage group robots only in your own area."))
    if kind not in WebhookKind.values:
        raise ValidationError(_("Choose WeCom, DingTalk or Feishu."))
    name = (name or "").strip()
    if not name:
        raise ValidationError(_("Give the robot a name."))
    if kind == WebhookKind.WECOM and secret:
        raise ValidationError(_("WeCom group robots are not signed: leave the secret empty."))
    creating = endpoint is None
    if creating:
        if not url:
            raise ValidationError(_("Enter the robot's webhook address (https://…)."))
        endpoint = WebhookEndpoint(created_by=by)
    changed = {}
    if url:
        url = _check_url(url)
        endpoint.url_enc, endpoint.url_hint = encrypt(url), _url_hint(url)
        changed["url"] = endpoint.url_hint
    if secret:
        endpoint.secret_enc = encrypt(secret.strip())
        changed["secret"] = "set"
    elif clear_secret or kind == WebhookKind.WECOM:
        if endpoint.secret_enc:
            changed["secret"] = "removed"
        endpoint.secret_enc = ""
    fields = {"name": name, "kind": kind, "node_id": node.pk, "org_path": node.path,
              "unit_id": unit.pk if unit is not None else None, "on_dispatch": on_dispatch,
              "on_due_soon": on_due_soon, "on_overdue": on_overdue, "on_supervise": on_supervise,
              "is_active": is_active}
    labels = {"node_id": ("node", str(node)), "unit_id": ("unit", str(unit or ""))}
    for field, value in fields.items():
        if getattr(endpoint, field) != value:
            key, shown = labels.get(field, (field, value))
            changed[key] = shown
            setattr(endpoint, field, value)
    endpoint.save()
    audit.record(actor=by, action="webhook.create" if creating else "webhook.update", obj=endpoint, changes=changed)
    return endpoint


def endpoint_test(*, endpoint: WebhookEndpoint, by) -> Delivery:
    """Send a test message now (the admin waits for the answer) and return its outbox row."""
    if not by.can(Perm.APPEALS_ADMIN, endpoint.org_path):
        raise PermissionDenied(_("You may manage group robots only in your own area."))
    with transaction.atomic():
        with override(settings.LANGUAGE_CODE):
            payload = channels.build(endpoint.kind, messages.test_message(endpoint.name))
        delivery = Delivery.objects.create(endpoint=endpoint, event="test", payload=payload)
        audit.record(actor=by, action="webhook.test", obj=endpoint)
    delivery_send(delivery_id=delivery.pk)
    delivery.refresh_from_db()
    return delivery


# --- the inbox ----------------------------------------------------------------------------------
# Read marks are the user's own inbox state, not governance data: not audited.


def notice_read(*, user, notice: Notice) -> Notice:
    if notice.user_id != user.pk:
        raise PermissionDenied
    if notice.read_at is None:
        notice.read_at = timezone.now()
        Notice.objects.filter(pk=notice.pk, read_at__isnull=True).update(read_at=notice.read_at)
    return notice


def notices_read_all(*, user) -> int:
    return Notice.objects.filter(user=user, read_at__isnull=True).update(read_at=timezone.now())
