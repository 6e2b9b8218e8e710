"""Every write of the appeals loop: one function per action, atomic, audited, keyword-only.

State changes go through ``_move``: a conditional UPDATE on the expected state, so two people acting
on one appeal at once cannot both win (the loser is told who did it and when). Illegal changes raise
``TransitionError`` with a message that says why.
"""

from __future__ import annotations

import datetime as dt
import math
import re

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection, transaction
from django.db.models import F, Value
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from gongzhi.core.access import Role

from gongzhi.appeals.permissions import Perm
from gongzhi.core import audit
from gongzhi.core.pii import PIIError, blind_index, encrypt, mask_phone, normalize_phone
from gongzhi.core.text import TextError, clean_block, clean_line
from gongzhi.orgs.models import Household, NodeKind, OrgNode, Resident, Unit

from .. import events, policies, routing
from ..models import (
    ALLOWED_FROM,
    OPEN_STATUSES,
    Appeal,
    AppealEvent,
    AppealFollower,
    AppealPhoto,
    AppealRequest,
    Category,
    Channel,
    DueState,
    Satisfaction,
    Status,
)

MAX_PHOTOS = 9
MAX_PHOTO_BYTES = 10 * 1024 * 1024
_IMAGE_MAGIC = (b"\xff\xd8\xff", b"\x89PNG\r\n\x1a\n", b"RIFF", b"GIF8")

ACTION_LABELS = {
    "file": gettext_lazy("filed"), "dispatch": gettext_lazy("dispatched"), "return": gettext_lazy("returned"),
    "accept": gettext_lazy("accepted"), "resolve": gettext_lazy("resolved"), "verify": gettext_lazy("verified"),
    "verify_reject": gettext_lazy("sent back after checking"), "close": gettext_lazy("closed"),
    "reopen": gettext_lazy("reopened"), "merge": gettext_lazy("merged"), "void": gettext_lazy("voided"),
    "extension_request": gettext_lazy("asked for more time"), "extension_decide": gettext_lazy("decided on more time"),
    "void_request": gettext_lazy("asked to void"), "void_decide": gettext_lazy("decided on voiding"),
    "supervise": gettext_lazy("supervised"), "rate": gettext_lazy("rated"), "callback": gettext_lazy("called back"),
    "escalate": gettext_lazy("escalated"), "extension_approve": gettext_lazy("given more time"),
}


TITLE_CHARS = 30
_CLAUSE_END = re.compile(r"[，。！？；,.!?;\n]")


def title_from(description: str, limit: int = TITLE_CHARS) -> str:
    """A title made from the description when none was given: its first clause when that is short enough,
    else its start cut with an ellipsis, so a reader sees it goes on."""
    text = " ".join(description.split()).rstrip("，。！？；,.!?;")
    if len(text) <= limit:
        return text
    clause = _CLAUSE_END.split(text, maxsplit=1)[0].strip()
    if clause and len(clause) <= limit:
        return clause
    return text[:limit - 1].rstrip() + "…"


class TransitionError(ValidationError):
    """A state change that is not allowed now; the message says why."""


def _now() -> dt.datetime:
    return timezone.now()


def _refuse(appeal: Appeal, action: str):
    # Translators: separator of a list of states ("、" in Chinese).
    allowed = _(", ").join(str(Status(s).label) for s in ALLOWED_FROM[action])
    raise TransitionError(
        _("This appeal is %(state)s: it can be %(action)s only when it is %(allowed)s.")
        % {"state": Status(appeal.status).label, "action": ACTION_LABELS[action], "allowed": allowed}
    )


def _check(appeal: Appeal, action: str):
    if appeal.status not in ALLOWED_FROM[action]:
        _refuse(appeal, action)


def _event(appeal: Appeal, kind: str, by, *, from_status: str = "", note: str = "", public: bool = True,
           data: dict | None = None, at: dt.datetime | None = None) -> AppealEvent:
    actor_ok = by is not None and getattr(by, "is_authenticated", False)
    return AppealEvent.objects.create(
        appeal=appeal, at=at or _now(), actor=by if actor_ok else None, actor_name=str(by) if actor_ok else "",
        kind=kind, from_status=from_status, to_status=appeal.status, note=note, public=public, data=data or {},
    )


def stale_message(appeal: Appeal) -> str:
    """What someone acting on an old copy of the appeal is told: who changed it last, when, and its state now."""
    current = Appeal.objects.get(pk=appeal.pk)
    last = current.events.order_by("-at", "-id").first()
    who = last.actor_name if last and last.actor_name else _("someone else")
    when = timezone.localtime(last.at).strftime("%H:%M") if last else ""
    return _("%(who)s already %(action)s this appeal at %(when)s; it is now %(state)s.") % {
        "who": who, "action": ACTION_LABELS.get(last.kind, last.kind) if last else "", "when": when,
        "state": Status(current.status).label,
    }


def _move(appeal: Appeal, action: str, to_status: str, **fields) -> None:
    """Change state only if nobody changed it since we read it; else tell who did."""
    allowed = ALLOWED_FROM[action]
    updated = Appeal.objects.filter(pk=appeal.pk, status__in=allowed, status=appeal.status).update(
        status=to_status, updated_at=_now(), **fields
    )
    if not updated:
        raise TransitionError(stale_message(appeal))
    appeal.status = to_status
    for key, value in fields.items():
        if not hasattr(value, "resolve_expression"):
            setattr(appeal, key, value)


def _audit(appeal: Appeal, by, action: str, **changes):
    reason = changes.pop("reason", "")
    audit.record(actor=by, action=f"appeal.{action}", obj=appeal, changes=changes, reason=reason)


def _photos(appeal: Appeal, event: AppealEvent, photos, by) -> None:
    photos = list(photos or [])
    if len(photos) > MAX_PHOTOS:
        raise ValidationError(_("At most %(n)s photos.") % {"n": MAX_PHOTOS})
    for upload in photos:  # every photo is checked before any is stored: a refusal leaves no file behind
        head = upload.read(12)
        upload.seek(0)
        if upload.size > MAX_PHOTO_BYTES:
            raise ValidationError(_("A photo may be at most 10 MB."))
        if not head.startswith(_IMAGE_MAGIC):
            raise ValidationError(_("Only photos (JPEG, PNG, WebP or GIF) can be attached."))
    for upload in photos:
        photo = AppealPhoto(appeal=appeal, event=event, uploaded_by=by if by and by.is_authenticated else None)
        photo.image.save(upload.name or "photo.jpg", upload, save=True)


# --- intake ------------------------------------------------------------------------------------


def _place(node: OrgNode | None, household: Household | None, reporter: Resident | None, category: Category):
    """Where the problem is (the household's micro-grid or grid, the place picked, or the reporter's
    home) and its line up the tree by kind with the category's routing rules, in one query."""
    if household is not None:
        path = household.org_path
    elif node is not None:
        path = node.path
    elif reporter is not None:
        path = reporter.org_path  # a resident's org_path is their household's
    else:
        raise ValidationError(_("Say where the problem is: pick a household or a place."))
    line = routing.line_with_rules(path, category, next_id_sql=_NEXT_ID if connection.vendor == "postgresql" else "")
    place = max(line.values(), key=lambda n: n.depth, default=None)
    if place is None or place.path != path:
        raise ValidationError(_("Say where the problem is: pick a household or a place."))
    return place, line


def _first_receiver(place: OrgNode, line: dict, channel: str, by) -> OrgNode:
    """首接负责: a grid worker filing on their rounds owns what they found in their own grid; everything
    else is owned by the place's community, whose staff dispatch it."""
    if by is not None and channel in (Channel.VISIT, Channel.SNAPSHOT):
        grid = routing.grid_of(place, line)
        if grid is not None and any(
            a.role == Role.GRID_WORKER and a.node_id == grid.pk for a in getattr(by, "active_assignments", [])
        ):
            return grid
    return routing.community_of(place, line) or place


# On PostgreSQL the new appeal's id is taken from its sequence before the INSERT, so its number goes in with
# the row (an UPDATE afterwards would rewrite every index of a large table): in the query that reads the
# place's line, as a scalar subquery PostgreSQL runs once (``_place``). Elsewhere it is known after the INSERT.
_NEXT_ID = f"(SELECT nextval(pg_get_serial_sequence('{Appeal._meta.db_table}', 'id')))"


def appeal_number(pk: int, submitted_at: dt.datetime) -> str:
    """The number people quote: the local filing day and the id, e.g. 20261123001234."""
    return f"{timezone.localtime(submitted_at):%Y%m%d}{pk:06d}"


@transaction.atomic
def appeal_file(
    *, by, category: Category, title: str, description: str, channel: str, node: OrgNode | None = None,
    household: Household | None = None, reporter: Resident | None = None, reporter_name: str = "",
    reporter_phone: str = "", address: str = "", lng: float | None = None, lat: float | None = None,
    attributes: dict | None = None, photos=(), client=None, submitted_at: dt.datetime | None = None,
) -> Appeal:
    """File an appeal: place and org node derived, owner set, deadlines computed, routed (and
    dispatched at once when the rule says so), audited."""
    if not category.is_active:
        raise ValidationError(_("This category is no longer in use."))
    if channel not in Channel.values:
        raise ValidationError(_("Unknown channel."))
    title, description = (title or "").strip(), (description or "").strip()
    if not description:
        raise ValidationError(_("Describe the problem."))
    title = title or title_from(description)
    place, line = _place(node, household, reporter, category)
    own = by is not None and reporter is not None and reporter.user_id == getattr(by, "pk", None)
    if by is not None and client is None and not own and not policies.can_file_for_others(by, place.path):
        raise PermissionDenied(_("You may not file appeals for this place."))
    attributes = clean_attributes(category, attributes or {})
    phone = ""
    if reporter_phone:
        try:
            phone = normalize_phone(reporter_phone)
        except PIIError as exc:
            raise ValidationError(str(exc)) from None
    now = submitted_at or _now()
    owner = _first_receiver(place, line, channel, by)
    due = routing.deadlines(routing.policy_for(category), now)
    appeal = Appeal(
        number="", title=title[:120], description=description, category=category, channel=channel,
        node=place, org_path=place.path,
        household_id=household.pk if household is not None else (reporter.household_id if reporter else None),
        address=(address or (household.address if household else "")).strip()[:200], lng=lng, lat=lat,
        attributes=attributes, reporter=reporter,
        reporter_name=(reporter_name or (reporter.name if reporter else "")).strip()[:50],
        reporter_phone_enc=encrypt(phone), reporter_phone_hash=blind_index("phone", phone),
        reporter_phone_masked=mask_phone(phone), filed_by=by if by and by.is_authenticated else None, client=client,
        owner_node=owner, owner_path=owner.path, submitted_at=now, response_due=due.response_due,
        resolve_due=due.resolve_due, due_soon_at=due.due_soon_at, deadline_unconfirmed=due.unconfirmed,
    )
    appeal.pk = line.next_id
    if appeal.pk is not None:
        appeal.number = appeal_number(appeal.pk, now)
        appeal.save(force_insert=True)
    else:  # SQLite: the id is known after the INSERT
        appeal.number = f"T{now:%Y%m%d%H%M%S%f}"  # unique placeholder until then
        appeal.save(force_insert=True)
        appeal.number = appeal_number(appeal.pk, now)
        Appeal.objects.filter(pk=appeal.pk).update(number=appeal.number)
    event = _event(appeal, "file", by, at=now, data={"channel": channel})
    _photos(appeal, event, photos, by)
    if reporter is not None and reporter.user_id:
        AppealFollower.objects.create(appeal=appeal, user_id=reporter.user_id, resident=reporter)
    elif by is not None and by.is_authenticated and not by.can(Perm.WORKBENCH):
        AppealFollower.objects.create(appeal=appeal, user=by)
    _audit(appeal, by, "file", category=category.code, channel=channel, node=str(place),
           **({"client": client.name} if client is not None else {}))
    route = routing.route(place, category, line)
    if route.auto_dispatch:
        appeal_dispatch(appeal=appeal, by=None, to_node=route.node, to_unit=route.unit,
                        note=_("Dispatched automatically by the routing table."))
    events.appeal_changed(appeal, "file", event=event)
    return appeal


def clean_attributes(category: Category, values: dict) -> dict:
    """Check the answers to a category's form fields (Open311 attributes)."""
    out, errors = {}, []
    for field in category.form_fields or []:
        code = field.get("code")
        value = values.get(code)
        if value in (None, "", []):
            if field.get("required"):
                errors.append(_("“%(name)s” is required.") % {"name": field.get("description") or code})
            continue
        kind = field.get("datatype", "string")
        keys = {str(v.get("key")) for v in field.get("values", [])}
        if kind == "number":
            try:
                value = float(value)
            except (TypeError, ValueError, OverflowError):  # OverflowError: an integer too large for a float
                value = math.nan
            if not math.isfinite(value):  # nor NaN or infinity, which a JSON column cannot hold
                errors.append(_("“%(name)s” must be a number.") % {"name": field.get("description") or code})
                continue
        elif kind == "singlevaluelist" and str(value) not in keys:
            errors.append(_("“%(name)s” must be one of the listed values.") % {"name": field.get("description") or code})
            continue
        elif kind == "multivaluelist":
            value = value if isinstance(value, list) else [value]
            if not {str(v) for v in value} <= keys:
                errors.append(_("“%(name)s” must be among the listed values.") % {"name": field.get("description") or code})
                continue
        elif kind in ("string", "text", "datetime") and isinstance(value, str):  # free text: core.text's rule
            try:
                value = clean_block(value) if kind == "text" else clean_line(value)
            except TextError as exc:
                errors.append(exc.message("“%s”" % (field.get("description") or code)))
                continue
            if not value and field.get("required"):
                errors.append(_("“%(name)s” is required.") % {"name": field.get("description") or code})
                continue
        out[code] = value
    if errors:
        raise ValidationError(errors)
    return out


# --- dispatch and handling ----------------------------------------------------------------------


def _handler_fields(to_node: OrgNode | None, to_unit: Unit | None) -> dict:
    if (to_node is None) == (to_unit is None):
        raise ValidationError(_("Choose one handling unit: an org node or a department / partner unit."))
    if to_node is not None and to_node.kind not in (NodeKind.COMMUNITY, NodeKind.GRID, NodeKind.MICRO_GRID, NodeKind.SUBDISTRICT):
        raise ValidationError(_("An appeal is handled by a subdistrict, community, grid or unit."))
    return {
        "handler_node": to_node, "handler_unit": to_unit,
        "handler_path": to_node.path if to_node is not None else "",
    }


@transaction.atomic
def appeal_dispatch(*, appeal: Appeal, by, to_node: OrgNode | None = None, to_unit: Unit | None = None,
                    note: str = "") -> Appeal:
    """派单: the owner sends the appeal to a handling unit (the routing table suggests one)."""
    _check(appeal, "dispatch")
    if by is not None:  # None: the routing table dispatching at filing, to the target it names
        policies.require(by, appeal, "dispatch")
    fields = _handler_fields(to_node, to_unit)
    if by is not None and not policies.is_dispatch_target(appeal, node=to_node, unit=to_unit):
        raise ValidationError(
            _("%(target)s does not handle appeals in %(area)s: dispatch it inside its community, to its "
              "subdistrict, or to a department or partner unit serving it.")
            % {"target": to_unit or to_node, "area": policies.dispatch_area(appeal)}
        )
    before = appeal.status
    _move(appeal, "dispatch", Status.DISPATCHED, dispatched_at=_now(), accepted_by=None, accepted_at=None, **fields)
    handler = to_unit or to_node
    event = _event(appeal, "dispatch", by, from_status=before, note=note, data={"to": str(handler)})
    _audit(appeal, by, "dispatch", handler=str(handler))
    events.appeal_changed(appeal, "dispatch", event=event)
    return appeal


@transaction.atomic
def appeal_accept(*, appeal: Appeal, by, note: str = "") -> Appeal:
    """签收: one handler takes it. Two at once: exactly one wins, the other is told who did."""
    _check(appeal, "accept")
    policies.require(by, appeal, "accept")
    now = _now()
    # The first acceptance decides whether the response was on time (docs/metrics.md): accepting again
    # after a return or a reopen does not turn an on-time response into a late one.
    on_time = now <= appeal.response_due
    _move(appeal, "accept", Status.ACCEPTED, accepted_by=by, accepted_at=now,
          responded_on_time=Coalesce(F("responded_on_time"), Value(on_time)))
    if appeal.responded_on_time is None:
        appeal.responded_on_time = on_time
    event = _event(appeal, "accept", by, from_status=Status.DISPATCHED, note=note)
    _audit(appeal, by, "accept")
    events.appeal_changed(appeal, "accept", event=event)
    return appeal


@transaction.atomic
def appeal_return(*, appeal: Appeal, by, reason: str) -> Appeal:
    """退单: not ours. Back to the first receiver with a reason; kept in the ledger."""
    _check(appeal, "return")
    policies.require(by, appeal, "return")
    if len((reason or "").strip()) < 2:
        raise ValidationError(_("Say why the appeal is not yours."))
    before = appeal.status
    _move(appeal, "return", Status.SUBMITTED, handler_node=None, handler_unit=None, handler_path="",
          accepted_by=None, accepted_at=None, return_count=F("return_count") + 1)
    appeal.return_count += 1
    event = _event(appeal, "return", by, from_status=before, note=reason, data={"ledger": True})
    _audit(appeal, by, "return", reason=reason)
    events.appeal_changed(appeal, "return", event=event)
    return appeal


@transaction.atomic
def appeal_resolve(*, appeal: Appeal, by, result: str, photos=()) -> Appeal:
    """办结: the handler says what was done, with photos."""
    _check(appeal, "resolve")
    policies.require(by, appeal, "resolve")
    result = (result or "").strip()
    if len(result) < 2:
        raise ValidationError(_("Say what was done."))
    now = _now()
    _move(appeal, "resolve", Status.RESOLVED, resolved_at=now, result=result,
          resolved_on_time=now <= appeal.resolve_due, rating_resolved=None, satisfaction="", rated_at=None,
          rating_comment="", rated_by_callback=False)
    event = _event(appeal, "resolve", by, from_status=Status.ACCEPTED, note=result)
    _photos(appeal, event, photos, by)
    _audit(appeal, by, "resolve", result=result)
    events.appeal_changed(appeal, "resolve", event=event)
    return appeal


@transaction.atomic
def appeal_verify(*, appeal: Appeal, by, ok: bool = True, note: str = "") -> Appeal:
    """核查: the first receiver's staff check the work; not done sends it back to the handler."""
    action = "verify" if ok else "verify_reject"
    _check(appeal, action)
    policies.require(by, appeal, "verify")
    if ok:
        _move(appeal, action, Status.VERIFIED, verified_at=_now())
    else:
        if len((note or "").strip()) < 2:
            raise ValidationError(_("Say what is still to be done."))
        _move(appeal, action, Status.ACCEPTED, resolved_at=None, resolved_on_time=None)
    event = _event(appeal, action, by, from_status=Status.RESOLVED, note=note)
    _audit(appeal, by, action, note=note)
    events.appeal_changed(appeal, action, event=event)
    return appeal


@transaction.atomic
def appeal_close(*, appeal: Appeal, by, note: str = "") -> Appeal:
    """结案: once the resident rated it, a callback (回访) was recorded, or nobody answered in time."""
    _check(appeal, "close")
    policies.require(by, appeal, "close")
    if not policies.may_close_now(appeal, _now()):
        raise TransitionError(
            _("The resident has not rated this appeal yet: record a callback first, or close it after %(when)s "
              "if nobody answers.")
            % {"when": timezone.localtime(policies.close_waits_until(appeal)).strftime("%Y-%m-%d %H:%M")}
        )
    _move(appeal, "close", Status.CLOSED, closed_at=_now())
    event = _event(appeal, "close", by, from_status=Status.VERIFIED, note=note)
    _audit(appeal, by, "close")
    events.appeal_changed(appeal, "close", event=event)
    return appeal


# --- ratings and reopening ----------------------------------------------------------------------


@transaction.atomic
def appeal_rate(*, appeal: Appeal, by, resolved: bool, satisfaction: str, comment: str = "",
                callback: bool = False) -> Appeal:
    """评价 by the resident, or 回访 recorded by staff after a phone call. Unsatisfied reopens the
    appeal when the category's policy says so and it has not been reopened too often."""
    _check(appeal, "rate")
    if satisfaction not in Satisfaction.values:
        raise ValidationError(_("Choose satisfied, basically satisfied or unsatisfied."))
    policies.require(by, appeal, "callback" if callback else "rate")
    if appeal.rated_at is not None:
        raise TransitionError(_("This appeal has been rated already."))
    now = _now()
    updated = Appeal.objects.filter(pk=appeal.pk, rated_at__isnull=True, status=appeal.status).update(
        rating_resolved=resolved, satisfaction=satisfaction, rating_comment=(comment or "").strip(), rated_at=now,
        rated_by_callback=callback, updated_at=now,
    )
    if not updated:
        raise TransitionError(_("This appeal has been rated already."))
    appeal.rating_resolved, appeal.satisfaction, appeal.rated_at = resolved, satisfaction, now
    appeal.rating_comment, appeal.rated_by_callback = (comment or "").strip(), callback
    event = _event(appeal, "callback" if callback else "rate", by, from_status=appeal.status, note=comment,
                   data={"resolved": resolved, "satisfaction": satisfaction})
    _audit(appeal, by, "callback" if callback else "rate", satisfaction=satisfaction, resolved=resolved)
    events.appeal_changed(appeal, "callback" if callback else "rate", event=event)
    policy = routing.policy_for(appeal.category)
    unhappy = satisfaction == Satisfaction.UNSATISFIED or not resolved
    if unhappy and policy.reopen_on_unsatisfied and appeal.reopen_count < policy.max_reopens:
        appeal_reopen(appeal=appeal, by=None, reason=comment or _("The resident is not satisfied."))
    return appeal


@transaction.atomic
def appeal_reopen(*, appeal: Appeal, by, reason: str) -> Appeal:
    """重办: back to the same handler with a fresh resolution deadline; the rating is kept in the timeline."""
    _check(appeal, "reopen")
    if by is not None:  # None: reopened by an unsatisfied rating, as the category's policy says
        policies.require(by, appeal, "reopen")
    if appeal.handler_node_id is None and appeal.handler_unit_id is None:
        raise TransitionError(_("This appeal has no handling unit to reopen it for."))
    now = _now()
    due = routing.deadlines(routing.policy_for(appeal.category), now)
    before = appeal.status
    _move(appeal, "reopen", Status.DISPATCHED, dispatched_at=now, accepted_by=None, accepted_at=None,
          resolved_at=None, verified_at=None, closed_at=None, resolved_on_time=None,
          resolve_due=due.resolve_due, due_soon_at=due.due_soon_at, due_state=DueState.NORMAL, escalated_at=None,
          deadline_unconfirmed=due.unconfirmed, rating_resolved=None, satisfaction="", rated_at=None,
          rating_comment="", rated_by_callback=False, reopen_count=F("reopen_count") + 1)
    appeal.reopen_count += 1
    event = _event(appeal, "reopen", by, from_status=before, note=reason, data={"ledger": True})
    _audit(appeal, by, "reopen", reason=reason)
    events.appeal_changed(appeal, "reopen", event=event)
    return appeal


# --- extension, void, supervise, merge ---------------------------------------------------------


@transaction.atomic
def extension_request(*, appeal: Appeal, by, days: int, reason: str) -> AppealRequest:
    """延期申请 by the handler; the first receiver's staff decide."""
    _check(appeal, "extension_request")
    policies.require(by, appeal, "extension_request")
    if not 1 <= int(days) <= 30:
        raise ValidationError(_("Ask for 1 to 30 working days."))
    if len((reason or "").strip()) < 2:
        raise ValidationError(_("Say why more time is needed."))
    if appeal.requests.filter(kind=AppealRequest.Kind.EXTENSION, state=AppealRequest.State.PENDING).exists():
        raise TransitionError(_("An extension request for this appeal is already waiting for a decision."))
    req = AppealRequest.objects.create(appeal=appeal, kind=AppealRequest.Kind.EXTENSION, reason=reason,
                                       extend_days=days, requested_by=by, requested_at=_now())
    _event(appeal, "extension_request", by, from_status=appeal.status, note=reason, data={"days": days, "ledger": True})
    _audit(appeal, by, "extension_request", days=days, reason=reason)
    return req


def _mark_decided(request: AppealRequest, *, by, approve: bool, note: str) -> None:
    """Decide a pending request once: of two deciding at once, the second is refused (the row's state is the
    condition of the update, so no lock is needed)."""
    updated = AppealRequest.objects.filter(pk=request.pk, state=AppealRequest.State.PENDING).update(
        state=AppealRequest.State.APPROVED if approve else AppealRequest.State.REJECTED,
        decided_by=by, decided_at=_now(), decision_note=note,
    )
    if not updated:
        raise TransitionError(_("This request has been decided already."))
    request.refresh_from_db()


@transaction.atomic
def extension_decide(*, request: AppealRequest, by, approve: bool, note: str = "") -> AppealRequest:
    appeal = request.appeal
    policies.require(by, appeal, "extension_decide", request=request)
    if approve:
        _check(appeal, "extension_approve")
    _mark_decided(request, by=by, approve=approve, note=note)
    if approve:
        from gongzhi.core import workdays

        due = workdays.add_working_days(appeal.resolve_due, request.extend_days)
        Appeal.objects.filter(pk=appeal.pk).update(
            resolve_due=due.at, due_soon_at=routing.due_soon(appeal.submitted_at, due.at,
                                                             routing.policy_for(appeal.category).due_soon_percent),
            due_state=DueState.NORMAL, extension_count=F("extension_count") + 1,
            deadline_unconfirmed=appeal.deadline_unconfirmed or due.warning,
        )
        appeal.refresh_from_db()
    event = _event(appeal, "extension_decide", by, from_status=appeal.status, note=note,
                   data={"approved": approve, "days": request.extend_days, "ledger": True})
    _audit(appeal, by, "extension_decide", approved=approve, reason=note)
    events.appeal_changed(appeal, "extension_decide", event=event)
    return request


@transaction.atomic
def void_request(*, appeal: Appeal, by, reason: str) -> AppealRequest:
    """作废申请 (a duplicate, a prank, filed by mistake): the owner's or handler's staff ask, a supervisor decides."""
    _check(appeal, "void")
    policies.require(by, appeal, "void_request")
    if len((reason or "").strip()) < 2:
        raise ValidationError(_("Say why the appeal should be voided."))
    if appeal.requests.filter(kind=AppealRequest.Kind.VOID, state=AppealRequest.State.PENDING).exists():
        raise TransitionError(_("A request to void this appeal is already waiting for a decision."))
    req = AppealRequest.objects.create(appeal=appeal, kind=AppealRequest.Kind.VOID, reason=reason,
                                       requested_by=by, requested_at=_now())
    _event(appeal, "void_request", by, from_status=appeal.status, note=reason, public=False, data={"ledger": True})
    _audit(appeal, by, "void_request", reason=reason)
    return req


@transaction.atomic
def void_decide(*, request: AppealRequest, by, approve: bool, note: str = "") -> AppealRequest:
    appeal = request.appeal
    policies.require(by, appeal, "void_decide", request=request)
    if approve:
        _check(appeal, "void")
    _mark_decided(request, by=by, approve=approve, note=note)
    before = appeal.status
    if approve:
        _move(appeal, "void", Status.VOIDED, closed_at=_now())
    event = _event(appeal, "void_decide", by, from_status=before, note=note, data={"approved": approve, "ledger": True})
    _audit(appeal, by, "void_decide", approved=approve, reason=note)
    events.appeal_changed(appeal, "void_decide", event=event)
    return request


@transaction.atomic
def appeal_supervise(*, appeal: Appeal, by, note: str) -> Appeal:
    """督办: a supervisor presses the handler; the handler and its supervisors are told."""
    _check(appeal, "supervise")
    policies.require(by, appeal, "supervise")
    Appeal.objects.filter(pk=appeal.pk).update(supervise_count=F("supervise_count") + 1, updated_at=_now())
    appeal.supervise_count += 1
    event = _event(appeal, "supervise", by, from_status=appeal.status, note=note, public=False)
    _audit(appeal, by, "supervise", note=note)
    events.appeal_changed(appeal, "supervise", event=event)
    return appeal


@transaction.atomic
def appeal_merge(*, appeal: Appeal, into: Appeal, by, note: str = "") -> Appeal:
    """合并: a duplicate report joins the main appeal; its reporters follow the main one and hear the outcome."""
    if appeal.pk == into.pk:
        raise ValidationError(_("An appeal cannot be merged into itself."))
    _check(appeal, "merge")
    if into.status not in OPEN_STATUSES:
        raise TransitionError(_("The main appeal is already finished; file or reopen instead."))
    policies.require(by, appeal, "merge", into=into)
    before = appeal.status
    _move(appeal, "merge", Status.MERGED, merged_into=into, closed_at=_now())
    followers = [
        AppealFollower(appeal=into, user_id=f.user_id, resident_id=f.resident_id, from_appeal=appeal)
        for f in appeal.followers.all()
    ]
    if appeal.reporter_id and not any(f.resident_id == appeal.reporter_id for f in followers):
        followers.append(AppealFollower(appeal=into, resident_id=appeal.reporter_id,
                                        user_id=appeal.reporter.user_id, from_appeal=appeal))
    AppealFollower.objects.bulk_create(followers)
    event = _event(appeal, "merge", by, from_status=before, note=note, data={"into": into.number})
    _event(into, "merge", by, from_status=into.status, note=note, public=False, data={"from": appeal.number})
    _audit(appeal, by, "merge", into=into.number)
    events.appeal_changed(appeal, "merge", event=event)
    return appeal


@transaction.atomic
def appeal_follow(*, appeal: Appeal, by, offer: str) -> AppealFollower:
    """“Same problem? Follow it”: a resident joins an open appeal in their community that was offered to them
    as a possible duplicate while filing (``offer``: ``policies.follow_offer``) instead of filing it again; they
    may rate it, are told the outcome and see its public part. Following twice changes nothing."""
    if appeal.status not in OPEN_STATUSES:
        raise TransitionError(_("This appeal is finished; file a new one if the problem is still there."))
    if not policies.can_follow(by, appeal, offer):
        raise PermissionDenied(_("You may follow only an appeal offered to you as the same problem while filing."))
    follower = AppealFollower.objects.filter(appeal=appeal, user=by).first()
    if follower is not None:
        return follower
    resident = Resident.objects.filter(user=by).first()
    follower = AppealFollower.objects.create(appeal=appeal, user=by, resident=resident)
    _audit(appeal, by, "follow")
    return follower
