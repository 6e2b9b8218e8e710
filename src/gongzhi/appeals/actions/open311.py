"""Open311 writes: client keys issued (the raw key shown once, only its hash kept) and revoked, and
service requests filed by a client; atomic, audited."""

from __future__ import annotations

import hashlib
import secrets

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from gongzhi.core import audit
from gongzhi.core.pii import encrypt
from gongzhi.orgs.models import OrgNode

from .. import policies
from . import loop as actions
from ..models import Appeal, AppealEvent, Category, Channel, Open311Client

KEY_PREFIX = "gz311_"


def key_hash(raw: str) -> str:
    """The same SHA-256 as API tokens: keys are long random strings, so a plain hash is enough."""
    return hashlib.sha256(raw.encode()).hexdigest()


def client_for_key(raw: str | None) -> Open311Client | None:
    """The active client holding ``raw``, or None for a missing, unknown or revoked key."""
    if not raw:
        return None
    return (
        Open311Client.objects.select_related("node")
        .filter(key_hash=key_hash(raw.strip()), revoked_at__isnull=True, node__is_active=True)
        .first()
    )


def _check_admin(by) -> None:
    # by=None is the system itself (the demo loader); people must be county administrators.
    if by is not None and not policies.can_admin(by):
        raise PermissionDenied(_("Only county administrators issue and revoke Open311 keys."))


@transaction.atomic
def open311_client_create(*, name: str, node: OrgNode, by, raw_key: str | None = None) -> tuple[Open311Client, str]:
    """Issue a key for a client application whose requests are placed inside ``node``'s subtree.

    The raw key is returned once and never stored. ``raw_key`` fixes it (the demo's published key)."""
    _check_admin(by)
    name = (name or "").strip()
    if not name:
        raise ValidationError({"name": _("Name the client application.")})
    raw = raw_key or KEY_PREFIX + secrets.token_urlsafe(32)
    if Open311Client.objects.filter(key_hash=key_hash(raw)).exists():
        raise ValidationError(_("This key is already in use."))
    client = Open311Client.objects.create(
        name=name[:100], key_hash=key_hash(raw), prefix=raw[:12], node=node,
        issued_by=by if by is not None and by.is_authenticated else None,
    )
    audit.record(actor=by, action="open311.client_create", obj=client, org_path=node.path,
                 changes={"name": client.name, "node": str(node)})
    return client, raw


@transaction.atomic
def open311_client_revoke(*, client: Open311Client, by, reason: str = "") -> Open311Client:
    """Revoke a key: from now on it answers 403. Revoking twice changes nothing."""
    _check_admin(by)
    now = timezone.now()
    if Open311Client.objects.filter(pk=client.pk, revoked_at__isnull=True).update(revoked_at=now):
        client.revoked_at = now
        audit.record(actor=by, action="open311.client_revoke", obj=client, org_path=client.node.path, reason=reason)
    else:
        client.refresh_from_db(fields=["revoked_at"])
    return client


@transaction.atomic
def ensure_open311_client(*, name: str, node: OrgNode, raw_key: str) -> Open311Client:
    """The client holding ``raw_key``, issued by the system when missing (the demo's published key)."""
    client = Open311Client.objects.filter(key_hash=key_hash(raw_key)).first()
    if client is None:
        client, _raw = open311_client_create(name=name, node=node, by=None, raw_key=raw_key)
    return client


def _mask_email(email: str) -> str:
    local, _at, domain = email.partition("@")
    return f"{local[:1]}***@{domain}" if domain else "***"


@transaction.atomic
def open311_request_file(
    *, client: Open311Client, category: Category, node: OrgNode, description: str, attributes: dict,
    address: str = "", lat: float | None = None, lng: float | None = None, reporter_name: str = "",
    reporter_phone: str = "", email: str = "", account_id: str = "", device_id: str = "", media_url: str = "",
    photos=(),
) -> Appeal:
    """A service request POSTed by an Open311 client: filed online for the client, placed at ``node``.

    What the appeal has no field for (the client's account and device ids, the media URL, the e-mail,
    encrypted) goes with the filing step of the timeline."""
    media_url = (media_url or "").strip()
    if media_url and not media_url.startswith(("http://", "https://")):
        raise ValidationError(_("media_url must be an http or https address."))
    appeal = actions.appeal_file(
        by=None, client=client, channel=Channel.ONLINE, category=category, title="", description=description,
        node=node, address=address, lat=lat, lng=lng, attributes=attributes, reporter_name=reporter_name,
        reporter_phone=reporter_phone, photos=photos,
    )
    extra = {"client": client.name, "account_id": account_id[:100], "device_id": device_id[:100],
             "media_url": media_url[:500],
             "email_enc": encrypt(email.strip()), "email_masked": _mask_email(email.strip()) if email.strip() else ""}
    event = AppealEvent.objects.get(appeal=appeal, kind="file")
    event.data = {**event.data, **{k: v for k, v in extra.items() if v}}
    event.save(update_fields=["data"])  # the filing's one audit row (appeal.file) names the client
    return appeal
