"""Who may do what to an appeal: one predicate per action over the user's roles and the appeal's places.

- the *owner* (first receiver, 首接负责) dispatches: APPEALS_DISPATCH over ``owner_path``;
- the *handler* accepts, resolves, returns, asks for time: APPEALS_HANDLE over ``handler_path``
  (from an area role), or a role held for ``handler_unit`` (unit roles handle only their unit's);
- the *dispatcher's chain* verifies, closes, merges, approves extensions: APPEALS_DISPATCH over
  ``owner_path`` (supervisors may decide on more time too);
- *supervisors* supervise and approve voiding: APPEALS_SUPERVISE over the place (``org_path``);
- the owner's or the handler's staff ask to void; nobody decides a request they made themselves;
- the dispatcher's chain and supervisors reopen (重办) and record callbacks (回访);
- closing (结案) waits for the resident's word: a rating (评价) or a callback recorded by staff, or the end of
  the wait for one (``may_close_now``);
- the *reporter* (or a follower) rates and follows;
- a resident *follows* only an appeal offered to them as a possible duplicate of what they were filing
  (``follow_offer``, ``can_follow``), and a follower sees only the appeal's public part (``sees_whole``).

``allowed_actions(user, appeal)`` is what the appeal page offers and the API's ``allowed`` lists: the actions
whose state allows them now (``models.ALLOWED_FROM`` and the few conditions below) and whose predicate lets
the user. The actions ask ``require`` before they write, which raises ``PermissionDenied`` saying why.

Where an appeal may be dispatched is the appeal's, not the dispatcher's (``is_dispatch_target``): inside the
community of its place (any grid or micro-grid there, or the community), the subdistrict above it, a department
or partner unit belonging to or serving a node there or above it, and always what the routing table suggests.
A county administrator who sees every grid still sends an appeal only where it can be handled.
"""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.core import signing
from django.core.exceptions import PermissionDenied
from django.db.models import Exists, OuterRef, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from gongzhi.core.access import ROLE_PERMS, UNIT_ROLES, Role
from gongzhi.core.scoping import under
from gongzhi.orgs.models import NodeKind, OrgNode, Unit, UnitService

from gongzhi.appeals.permissions import Perm

from .models import ALLOWED_FROM, Appeal, AppealRequest


def _authenticated(user) -> bool:
    return user is not None and getattr(user, "is_authenticated", False) and user.is_active


def unit_ids(user) -> set[int]:
    """The units a user handles for (department handlers, partner-unit contacts)."""
    if not _authenticated(user):
        return set()
    return {
        a.unit_id for a in user.active_assignments
        if a.unit_id and a.role in (Role.DEPARTMENT_HANDLER, Role.PARTNER_CONTACT)
    }




def handle_paths(user) -> list[str]:
    """Subtrees where the user handles appeals dispatched to an org node (a grid, a community). Roles
    held for a unit handle only what is dispatched to their unit, wherever the role's node is."""
    if not _authenticated(user):
        return []
    return sorted({
        a.org_path for a in user.active_assignments
        if a.role not in UNIT_ROLES and Perm.APPEALS_HANDLE in ROLE_PERMS.get(a.role, ())
    })


def can_dispatch(user, appeal: Appeal) -> bool:
    return _authenticated(user) and user.can(Perm.APPEALS_DISPATCH, appeal.owner_path)


def can_handle(user, appeal: Appeal) -> bool:
    if not _authenticated(user):
        return False
    if appeal.handler_unit_id:
        return appeal.handler_unit_id in unit_ids(user)
    return bool(appeal.handler_path) and any(appeal.handler_path.startswith(p) for p in handle_paths(user))


def can_supervise(user, appeal: Appeal) -> bool:
    return _authenticated(user) and user.can(Perm.APPEALS_SUPERVISE, appeal.org_path)


def is_reporter(user, appeal: Appeal) -> bool:
    """The resident the appeal is for, the account that filed it as a resident, or a follower."""
    if not _authenticated(user):
        return False
    if appeal.reporter_id and appeal.reporter.user_id == user.pk:
        return True
    if appeal.filed_by_id == user.pk and not user.can(Perm.WORKBENCH):
        return True
    return appeal.followers.filter(user=user).exists()


def can_rate(user, appeal: Appeal) -> bool:
    return is_reporter(user, appeal)


def can_callback(user, appeal: Appeal) -> bool:
    """Staff who record a phone callback (回访): the dispatcher's chain and supervisors."""
    return can_dispatch(user, appeal) or can_supervise(user, appeal)


def _not_theirs(user, request: AppealRequest | None) -> bool:
    return request is None or request.requested_by_id != user.pk


# --- one predicate per action -----------------------------------------------------------------------


def can_accept(user, appeal: Appeal) -> bool:
    return can_handle(user, appeal)


def can_return(user, appeal: Appeal) -> bool:
    return can_handle(user, appeal)


def can_resolve(user, appeal: Appeal) -> bool:
    return can_handle(user, appeal)


def can_request_extension(user, appeal: Appeal) -> bool:
    return can_handle(user, appeal)


def can_verify(user, appeal: Appeal) -> bool:
    return can_dispatch(user, appeal)


def can_close(user, appeal: Appeal) -> bool:
    return can_dispatch(user, appeal)


def can_merge(user, appeal: Appeal, into: Appeal | None = None) -> bool:
    """The owner's chain of the duplicate, and of the main appeal when it is known."""
    return can_dispatch(user, appeal) and (into is None or can_dispatch(user, into))


def can_decide_extension(user, appeal: Appeal, request: AppealRequest | None = None) -> bool:
    """The owner's chain or a supervisor, other than whoever asked."""
    return (can_dispatch(user, appeal) or can_supervise(user, appeal)) and _not_theirs(user, request)


def can_request_void(user, appeal: Appeal) -> bool:
    return can_dispatch(user, appeal) or can_handle(user, appeal)


def can_decide_void(user, appeal: Appeal, request: AppealRequest | None = None) -> bool:
    """A supervisor, other than whoever asked."""
    return can_supervise(user, appeal) and _not_theirs(user, request)


def can_reopen(user, appeal: Appeal) -> bool:
    return can_dispatch(user, appeal) or can_supervise(user, appeal)


# action -> (its predicate, what a user it refuses is told). The order is the order they are offered in.
RULES = {
    "dispatch": (can_dispatch, _("Only the first receiver's staff may dispatch this appeal.")),
    "accept": (can_accept, _("Only the unit this appeal was dispatched to may accept it.")),
    "return": (can_return, _("Only the handling unit may return this appeal.")),
    "resolve": (can_resolve, _("Only the handling unit may resolve this appeal.")),
    "verify": (can_verify, _("Only the first receiver's staff may check this appeal.")),
    "close": (can_close, _("Only the first receiver's staff may close this appeal.")),
    "reopen": (can_reopen, _("Only the first receiver's staff or a supervisor may reopen this appeal.")),
    "merge": (can_merge, _("Only the first receiver's staff of both appeals may merge them.")),
    "extension_request": (can_request_extension, _("Only the handling unit may ask for more time.")),
    "void_request": (can_request_void,
                     _("Only the first receiver's staff or the handling unit may ask to void this appeal.")),
    "supervise": (can_supervise, _("Only subdistrict or county staff may supervise appeals.")),
    "rate": (can_rate, _("Only the person who filed the appeal may rate it.")),
    "callback": (can_callback, _("Only the first receiver's staff or a supervisor record callbacks.")),
    "extension_decide": (can_decide_extension,
                         _("Only the first receiver's staff or a supervisor may decide on more time.")),
    "void_decide": (can_decide_void, _("Only a supervisor (subdistrict or county) may approve voiding.")),
}
ACTIONS = tuple(RULES)
_OWN_REQUEST = _("You asked for this yourself: someone else decides.")


def may(user, appeal: Appeal, action: str, **context) -> bool:
    """The predicate of ``action`` (``into=`` for merge, ``request=`` for the decisions)."""
    return bool(RULES[action][0](user, appeal, **context))


def require(user, appeal: Appeal, action: str, **context) -> None:
    """Raise ``PermissionDenied`` saying why when the policy refuses ``user`` this action on ``appeal``."""
    if may(user, appeal, action, **context):
        return
    request = context.get("request")
    if request is not None and _authenticated(user) and request.requested_by_id == user.pk \
            and may(user, appeal, action):
        raise PermissionDenied(str(_OWN_REQUEST))
    raise PermissionDenied(str(RULES[action][1]))  # in the language active now, as the actions' own messages


# --- closing waits for the resident's word (评价 or 回访) -----------------------------------------------


def rating_wait() -> dt.timedelta:
    """How long a verified appeal waits for the resident's rating before it may be closed without one: from the
    moment they were asked (it was resolved, and they were told so with a request to rate), the
    ``GONGZHI_RATING_WAIT_DAYS`` setting (7 days unless set)."""
    return dt.timedelta(days=getattr(settings, "GONGZHI_RATING_WAIT_DAYS", 7))


def close_waits_until(appeal: Appeal) -> dt.datetime | None:
    """Until when closing the appeal waits for a rating; None when nothing is awaited (a rating or a callback
    stands)."""
    if appeal.rated_at is not None:
        return None
    return (appeal.resolved_at or appeal.verified_at or appeal.submitted_at) + rating_wait()


def may_close_now(appeal: Appeal, now: dt.datetime | None = None) -> bool:
    """结案 after 评价: the resident rated it or staff recorded a callback (回访), or the wait for an answer is over."""
    until = close_waits_until(appeal)
    return until is None or (now or timezone.now()) >= until


# --- what the state allows ---------------------------------------------------------------------------

_STATE_RULE = {"void_request": "void", "callback": "rate"}


def _state_allows(appeal: Appeal, action: str, pending: dict[str, AppealRequest]) -> bool:
    if action == "extension_decide":
        return AppealRequest.Kind.EXTENSION in pending
    if action == "void_decide":
        return AppealRequest.Kind.VOID in pending
    if appeal.status not in ALLOWED_FROM[_STATE_RULE.get(action, action)]:
        return False
    if action == "extension_request":
        return AppealRequest.Kind.EXTENSION not in pending
    if action == "void_request":
        return AppealRequest.Kind.VOID not in pending
    if action in ("rate", "callback"):
        return appeal.rated_at is None
    if action == "reopen":
        return bool(appeal.handler_node_id or appeal.handler_unit_id)
    if action == "close":
        return may_close_now(appeal)
    return True


def allowed_actions(user, appeal: Appeal, requests=None) -> list[str]:
    """The actions ``user`` may take on ``appeal`` now (names of ``ACTIONS``, in their order): the appeal's state
    allows it and the action's predicate lets the user. ``requests``: the appeal's extension and void requests
    when the caller has them (else they are read)."""
    if not _authenticated(user):
        return []
    if requests is None:
        requests = appeal.requests.filter(state=AppealRequest.State.PENDING)
    pending = {r.kind: r for r in requests if r.state == AppealRequest.State.PENDING}
    out = []
    for action in ACTIONS:
        if not _state_allows(appeal, action, pending):
            continue
        context = {}
        if action == "extension_decide":
            context["request"] = pending[AppealRequest.Kind.EXTENSION]
        elif action == "void_decide":
            context["request"] = pending[AppealRequest.Kind.VOID]
        if may(user, appeal, action, **context):
            out.append(action)
    return out


# --- where an appeal may be dispatched -------------------------------------------------------------------

HANDLER_KINDS = (NodeKind.SUBDISTRICT, NodeKind.COMMUNITY, NodeKind.GRID, NodeKind.MICRO_GRID)
_STEP = OrgNode.steplen


def dispatch_area(appeal: Appeal) -> OrgNode:
    """The community of the appeal's place; the place itself when no community is above it."""
    from .routing import community_of

    return community_of(appeal.node) or appeal.node


def _above(path: str) -> list[str]:
    return [path[:i] for i in range(_STEP, len(path) + 1, _STEP)]


def _unit_q(top: str) -> Q:
    """Units belonging to or serving a node in the subtree at ``top`` or above it."""
    near = under(top) | Q(org_path__in=_above(top))
    return near | Q(Exists(UnitService.objects.filter(unit=OuterRef("pk")).filter(near)))


def dispatch_target_nodes(appeal: Appeal, area: OrgNode | None = None):
    """The org nodes the appeal may be dispatched to: inside its area (``dispatch_area``), and the subdistrict
    above it."""
    top = (area or dispatch_area(appeal)).path
    return OrgNode.objects.filter(under(top, "path") | Q(path__in=_above(top), kind=NodeKind.SUBDISTRICT),
                                  kind__in=HANDLER_KINDS)


def dispatch_target_units(appeal: Appeal, area: OrgNode | None = None):
    """The departments and partner units the appeal may be dispatched to: those belonging to or serving a node
    in its area or above it (the county's departments serve the whole county)."""
    return Unit.objects.filter(_unit_q((area or dispatch_area(appeal)).path))


def is_dispatch_target(appeal: Appeal, *, node: OrgNode | None = None, unit: Unit | None = None) -> bool:
    """Whether ``node`` or ``unit`` is somewhere the appeal may be dispatched (see the module's docstring)."""
    top = dispatch_area(appeal).path
    if node is not None:
        if node.kind in HANDLER_KINDS and (
            node.path.startswith(top) or (node.kind == NodeKind.SUBDISTRICT and top.startswith(node.path))
        ):
            return True
    elif unit is not None:
        if Unit.objects.filter(_unit_q(top), pk=unit.pk).exists():
            return True
    else:
        return False
    from .routing import route

    suggested = route(appeal.node, appeal.category)
    return (node is not None and suggested.node is not None and suggested.node.pk == node.pk) or (
        unit is not None and suggested.unit is not None and suggested.unit.pk == unit.pk)


def can_file_for_others(user, org_path: str | None = None) -> bool:
    return _authenticated(user) and user.can(Perm.APPEALS_FILE, org_path)


def can_admin(user) -> bool:
    """Global settings (categories, deadline policies, calendar, Open311 keys): county administrators."""
    return _authenticated(user) and (user.is_superuser or user.has_role(Role.COUNTY_ADMIN))


def home_community(user):
    """The community a resident account lives in (through its registry record), or None."""
    if not _authenticated(user):
        return None
    from gongzhi.orgs.models import Resident

    from .routing import community_of

    resident = Resident.objects.filter(user=user).select_related("household__grid").first()
    return community_of(resident.household.grid) if resident is not None else None


# How long a "Same problem? Follow it" button shown while filing stays good.
FOLLOW_OFFER_SECONDS = 3600
_FOLLOW_OFFER_SALT = "gongzhi.appeals.follow-offer"


def follow_offer(user, appeal: Appeal) -> str:
    """A signed note that ``appeal`` was shown to ``user`` as a possible duplicate of what they are filing
    (``views_resident.duplicates``); following it needs the note back (``can_follow``)."""
    return signing.dumps([user.pk, appeal.pk], salt=_FOLLOW_OFFER_SALT)


def was_offered(user, appeal: Appeal, offer: str) -> bool:
    try:
        note = signing.loads(offer or "", salt=_FOLLOW_OFFER_SALT, max_age=FOLLOW_OFFER_SECONDS)
    except signing.BadSignature:  # forged, for someone else, or expired
        return False
    return note == [user.pk, appeal.pk]


def can_follow(user, appeal: Appeal, offer: str = "") -> bool:
    """A resident may follow ("same problem? follow it") an appeal in their own community that was offered to
    them, within the hour, as a possible duplicate of what they were filing: only what they have seen already.
    Any other appeal id answers as a missing one. Following shows them the appeal's public part only."""
    community = home_community(user)
    return (community is not None and appeal.org_path.startswith(community.path)
            and was_offered(user, appeal, offer))


def reports(user, appeal: Appeal) -> bool:
    """The resident the appeal is for, or the account that filed it (a resident for themselves, staff for
    someone): they wrote what it says. Not a follower."""
    if not _authenticated(user):
        return False
    if appeal.filed_by_id == user.pk:
        return True
    return bool(appeal.reporter_id) and appeal.reporter.user_id == user.pk


def staff_sees(user, appeal: Appeal) -> bool:
    """Staff who see the appeal through their work: its place in their area, first received, handled or
    supervised by them."""
    return _authenticated(user) and (
        user.can(Perm.APPEALS_VIEW, appeal.org_path) or can_dispatch(user, appeal) or can_handle(user, appeal)
        or can_supervise(user, appeal)
    )


def sees_whole(user, appeal: Appeal) -> bool:
    """Whether the user sees the whole appeal: who reported it, their phone and household, the address and the
    text as typed. The reporter and the staff do; a follower (a neighbour who followed it as the same problem,
    or the reporter of an appeal merged into it) sees its public part (``appeals.public``): what Open311 shows
    anyone, no name, phone, household or address beyond the place, phone and ID numbers in the text masked."""
    return staff_sees(user, appeal) or reports(user, appeal)
