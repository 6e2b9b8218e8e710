"""Every write to micro-wishes: one function per step, atomic, audited, with its actor (``by``), and the
step written to the wish's timeline. Policies are enforced here (``policies.require``); a step the state does
not allow is refused with ``policies.StepRefused`` (409 in the API) and the reason."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from gongzhi.core.access import SYSTEM
from gongzhi.core.pii import mask_name
from gongzhi.orgs.models import OrgNode, Resident

from .. import policies
from ..models import ALLOWED_FROM, Wish, WishChannel, WishEvent, WishKind, WishStatus
from ..policies import StepRefused
from .common import community_of, record_step, text, who

TITLE_MAX = 60


@transaction.atomic
def wish_collect(*, by, resident: Resident, title: str, description: str = "", kind: str = WishKind.GOODS,
                 channel: str = WishChannel.VISIT, node: OrgNode | None = None) -> Wish:
    """Take down a resident's wish (on a visit, from the wish wall), or a resident makes their own online."""
    own = getattr(by, "is_authenticated", False) and resident.user_id == by.pk
    household = resident.household
    node = node or household.micro_grid or household.grid
    if own:
        channel = WishChannel.ONLINE
    elif not policies.can_collect(by, node):
        raise PermissionDenied(_("You may take down wishes only in your own area."))
    if kind not in WishKind.values:
        raise ValidationError({"kind": _("Choose what kind of wish this is.")})
    if channel not in WishChannel.values:
        raise ValidationError({"channel": _("Choose where the wish came from.")})
    wish = Wish.objects.create(
        community=community_of(node), node=node, org_path=node.path, resident=resident,
        public_name=mask_name(resident.name), title=text(title, "title", required=True, most=TITLE_MAX),
        description=text(description, "description", block=True, most=2000), kind=kind, channel=channel,
        collected_by=who(by), collected_at=timezone.now(),
    )
    record_step(wish, WishEvent, "collect", by, from_status="", title=wish.title, channel=channel)
    return wish


def _lock(wish: Wish) -> Wish:
    """The wish read again under a row lock, so two steps at once are taken one after the other."""
    return Wish.objects.select_for_update().select_related("resident").get(pk=wish.pk)


def _step(wish: Wish, by, step: str, to: str, *, note: str = "", actor=None, **fields) -> Wish:
    """``step`` by ``by`` (checked), written as done by ``actor`` (default ``by``)."""
    wish = _lock(wish)
    policies.require(by, wish, step)
    actor = by if actor is None else actor
    before = wish.status
    wish.status = to
    for name, value in fields.items():
        setattr(wish, name, value)
    wish.save(update_fields=["status", "updated_at", *fields])
    record_step(wish, WishEvent, step, actor, from_status=before, note=note)
    return wish


@transaction.atomic
def wish_verify(*, wish: Wish, by, note: str = "") -> Wish:
    """Staff checked the wish with the resident (it is real, small, and fits the programme)."""
    return _step(wish, by, "verify", WishStatus.VERIFIED, note=text(note, "note", block=True, most=500),
                 verified_at=timezone.now())


@transaction.atomic
def wish_publish(*, wish: Wish, by) -> Wish:
    """On the wall: party members and partner units of the community may claim it."""
    return _step(wish, by, "publish", WishStatus.PUBLISHED, published_at=timezone.now())


@transaction.atomic
def wish_reject(*, wish: Wish, by, reason: str) -> Wish:
    reason = text(reason, "reason", required=True, most=200)
    return _step(wish, by, "reject", WishStatus.REJECTED, note=reason, reject_reason=reason)


@transaction.atomic
def wish_claim(*, wish: Wish, by, unit=None, for_name: str = "") -> Wish:
    """One claimant only: of many claiming at once, the first wins and the others are told who took it (the row
    is locked while the claim is checked and written). ``for_name``: staff record a claim made offline (at a
    meeting, by phone) by someone without an account."""
    wish = _lock(wish)
    if wish.status == WishStatus.CLAIMED:
        raise StepRefused(_("%(name)s has already claimed this wish.") % {"name": wish.claimant_name})
    if for_name:
        if not (by is SYSTEM or policies.can_manage(by, wish)):
            raise PermissionDenied(_("Only the community's staff record a claim for someone else."))
        if wish.status not in ALLOWED_FROM["claim"]:
            raise StepRefused(policies.why_not(by, wish, "claim"))
        return _step(wish, SYSTEM, "claim", WishStatus.CLAIMED, claimant_name=text(for_name, "for_name", most=100),
                     claimed_at=timezone.now(), actor=by)
    units = {a.unit_id: a.unit for a in getattr(by, "active_assignments", []) if a.unit_id}
    if unit is not None and unit.pk not in units:
        raise PermissionDenied(_("You claim only for a unit you are a contact of."))
    name = unit.name if unit is not None else str(by)
    return _step(wish, by, "claim", WishStatus.CLAIMED, claimed_by=by, claimed_unit=unit,
                 claimant_name=name[:100], claimed_at=timezone.now())


@transaction.atomic
def wish_release(*, wish: Wish, by, reason: str) -> Wish:
    """The claimant cannot do it after all: the wish goes back on the wall."""
    reason = text(reason, "reason", required=True, most=200)
    return _step(wish, by, "release", WishStatus.PUBLISHED, note=reason, claimed_by=None, claimed_unit=None,
                 claimant_name="", claimed_at=None)


@transaction.atomic
def wish_fulfil(*, wish: Wish, by, note: str) -> Wish:
    """点亮: the claimant (or staff, for them) says how the wish came true."""
    note = text(note, "note", block=True, required=True, most=1000)
    return _step(wish, by, "fulfil", WishStatus.FULFILLED, note=note, fulfilment_note=note,
                 fulfilled_at=timezone.now())


@transaction.atomic
def wish_thank(*, wish: Wish, by, note: str) -> Wish:
    """The resident's thanks, shown to the claimant (the status stays fulfilled)."""
    note = text(note, "note", block=True, required=True, most=500)
    wish = _lock(wish)
    if wish.thanks_note:
        raise StepRefused(_("Thanks were already given for this wish."))
    policies.require(by, wish, "thank")
    wish.thanks_note = note
    wish.save(update_fields=["thanks_note", "updated_at"])
    record_step(wish, WishEvent, "thank", by, from_status=wish.status, note=note)
    return wish
