"""Reads of the notification app: a user's notices, scoped robot endpoints, and who is told what.

Who is told (all active users with an active role assignment):
- *handlers* of an appeal: the users of its handling unit — for a unit, its department handlers and
  partner contacts; for an org node, the users whose role there grants APPEALS_HANDLE (a grid's grid
  workers, a community's staff), or, when nobody holds one there, at the nearest level above. Unit roles
  count only for their unit, wherever their assignment's node is (as in ``appeals.policies``). An appeal
  not yet dispatched has no handler: its *dispatchers* are told instead.
- *dispatchers*: the same over the first receiver (``owner_path``) with APPEALS_DISPATCH.
- *supervisors* of the handling unit (or, before dispatch, of the first receiver): the area staff
  (community staff, subdistrict staff, county administrators) of the nearest level strictly above it
  that has any — a grid's are its community's staff, a community's its subdistrict's staff, a
  subdistrict's the county administrators; a unit's are the area staff of its home node (the county
  administrators for a county department), or above.
- *followers*: the resident the appeal is for (their account), a resident who filed it themselves,
  and every follower, including the reporters of the appeals merged into it.
"""

from __future__ import annotations

from django.db.models import Q, QuerySet
from django.http import Http404

from gongzhi.accounts.models import RoleAssignment, User
from gongzhi.core.access import ROLE_PERMS, UNIT_ROLES, Role
from gongzhi.appeals.permissions import Perm
from gongzhi.appeals.models import Appeal, AppealFollower
from gongzhi.appeals.routing import ancestor_paths
from gongzhi.core.scoping import get_scoped, scoped
from gongzhi.orgs.models import OrgNode

from .models import Notice, WebhookEndpoint

AREA_ROLES = (Role.COMMUNITY_STAFF, Role.SUBDISTRICT_STAFF, Role.COUNTY_ADMIN)
# Roles that handle what is dispatched to an org node. Unit roles grant APPEALS_HANDLE too, but only for
# their unit's appeals, wherever their assignment's node is (as appeals.policies.handle_paths says).
NODE_HANDLER_ROLES = tuple(r for r, perms in ROLE_PERMS.items() if Perm.APPEALS_HANDLE in perms and r not in UNIT_ROLES)


# --- the inbox --------------------------------------------------------------------------------------


def notices(user) -> QuerySet[Notice]:
    """The user's notices, unread first, newest first."""
    if user is None or not user.is_authenticated:
        return Notice.objects.none()
    return Notice.objects.filter(user=user).order_by("-created_at", "-id")


def unread_count(user) -> int:
    if user is None or not user.is_authenticated:
        return 0
    return Notice.objects.filter(user=user, read_at__isnull=True).count()


def notice_get(user, pk) -> Notice:
    """One of the user's own notices; anybody else's answers like a missing one."""
    try:
        return Notice.objects.get(pk=pk, user=user)
    except (Notice.DoesNotExist, ValueError, TypeError):
        raise Http404("not found") from None


# --- robots -----------------------------------------------------------------------------------------


def endpoints(user) -> QuerySet[WebhookEndpoint]:
    """Robot endpoints the user manages: county administrators all, subdistrict staff their subtree."""
    return scoped(WebhookEndpoint.objects.select_related("node", "unit"), user, Perm.APPEALS_ADMIN)


def endpoint_get(user, pk) -> WebhookEndpoint:
    return get_scoped(WebhookEndpoint.objects.select_related("node", "unit"), user, Perm.APPEALS_ADMIN, pk=pk)


def endpoints_for(appeal: Appeal, event: str) -> list[WebhookEndpoint]:
    """Active endpoints covering the appeal's place (and its unit, when they are limited to one) for ``event``."""
    qs = WebhookEndpoint.objects.filter(
        is_active=True, org_path__in=ancestor_paths(appeal.org_path), **{f"on_{event}": True}
    ).filter(Q(unit__isnull=True) | Q(unit_id=appeal.handler_unit_id))
    return list(qs)


# --- recipients -------------------------------------------------------------------------------------


def _active(qs):
    return qs.filter(is_active=True, user__is_active=True)


def _nearest(paths: list[str], *, roles=None, perm: str | None = None) -> set[int]:
    """User ids holding (one of ``roles`` / a role granting ``perm``) at the first of ``paths`` (deepest
    first) where anybody does."""
    if not paths:
        return set()
    wanted = set(roles or ())
    if perm:
        wanted |= {r for r, perms in ROLE_PERMS.items() if perm in perms}
    rows = _active(RoleAssignment.objects.filter(org_path__in=paths, role__in=wanted)).values_list("org_path", "user_id")
    by_path: dict[str, set[int]] = {}
    for path, user_id in rows:
        by_path.setdefault(path, set()).add(user_id)
    for path in paths:
        if by_path.get(path):
            return by_path[path]
    return set()


def _unit_handlers(unit_id: int) -> set[int]:
    return set(_active(RoleAssignment.objects.filter(unit_id=unit_id, role__in=UNIT_ROLES)).values_list("user_id", flat=True))


def dispatchers(appeal: Appeal) -> set[int]:
    return _nearest(ancestor_paths(appeal.owner_path), perm=Perm.APPEALS_DISPATCH)


def handlers(appeal: Appeal) -> set[int]:
    if appeal.handler_unit_id:
        return _unit_handlers(appeal.handler_unit_id)
    if appeal.handler_path:
        return _nearest(ancestor_paths(appeal.handler_path), roles=NODE_HANDLER_ROLES)
    return dispatchers(appeal)


def supervisors(appeal: Appeal) -> set[int]:
    if appeal.handler_unit_id:
        home = appeal.handler_unit.org_path if appeal.handler_unit else ""
        return _nearest(ancestor_paths(home), roles=AREA_ROLES)
    path = appeal.handler_path or appeal.owner_path
    return _nearest(ancestor_paths(path)[1:], roles=AREA_ROLES)


def followers(appeal: Appeal) -> set[int]:
    ids = set(AppealFollower.objects.filter(appeal=appeal, user__isnull=False).values_list("user_id", flat=True))
    if appeal.reporter_id and appeal.reporter.user_id:
        ids.add(appeal.reporter.user_id)
    if appeal.filed_by_id and not appeal.filed_by.can(Perm.WORKBENCH):
        ids.add(appeal.filed_by_id)
    return set(User.objects.filter(pk__in=ids, is_active=True).values_list("pk", flat=True))


def place_label(appeal: Appeal) -> str:
    """Where, as people say it: the org nodes below the county, then the address."""
    nodes = OrgNode.objects.filter(path__in=ancestor_paths(appeal.org_path), depth__gt=1).order_by("depth")
    names = "".join(n.name for n in nodes)
    return f"{names} {appeal.address}".strip() if appeal.address else names


def setup_robots(user, node) -> tuple[int, str, bool]:
    """The set-up checklist's group-robot step for the county ``node``: active robots in it."""
    from django.urls import reverse

    from gongzhi.core.scoping import under

    count = WebhookEndpoint.objects.filter(under(node.path), is_active=True).count()
    return count, reverse("notify:webhooks"), count > 0
