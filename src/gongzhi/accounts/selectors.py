"""Account reads, scoped like everything else: the users someone manages (``policies``), their login locks
and their API tokens, and where a user's roles are held."""

from __future__ import annotations

from django.conf import settings
from django.db.models import Count, Max, Q, QuerySet, Sum
from django.utils import timezone

from gongzhi.core.scoping import scope_q
from gongzhi.orgs.models import OrgNode

from . import policies, throttle
from .models import ApiToken, RoleAssignment, User
from gongzhi.orgs.permissions import Perm

LOCKS_SHOWN = 500


def managed_users(user) -> QuerySet[User]:
    """The users ``user`` manages: the same rule as ``policies.can_manage_user``, as one query."""
    if not policies.can_manage_users(user):
        return User.objects.none()
    if user.is_superuser:
        return User.objects.all()
    inside = scope_q(user, Perm.USERS_MANAGE, "org_path")
    active = RoleAssignment.objects.filter(is_active=True)
    qs = User.objects.filter(is_superuser=False).exclude(pk__in=active.exclude(inside).values("user_id"))
    if policies.manages_everything(user):
        return qs
    return qs.filter(pk__in=active.filter(inside).values("user_id"))


def home_path(user) -> str:
    """The org path an event about this user is filed under (the highest place of their roles), for the
    audit trail's scope; "" for a user with no role."""
    paths = RoleAssignment.objects.filter(user=user, is_active=True).values_list("org_path", flat=True)
    return min(paths, key=lambda p: (len(p), p), default="")


def top_manage_path(user) -> str:
    paths = policies.manage_paths(user)
    return min(paths, key=lambda p: (len(p), p), default="")


def account_locks(user) -> list[dict]:
    """Accounts the user manages that are locked from some address now: user, address, failures, until."""
    if not policies.can_manage_users(user):
        return []
    rows = list(
        throttle.recent_attempts().values("username", "ip_address")
        .annotate(failures=Sum("failures_since_start"), last=Max("attempt_time"))
        .filter(failures__gte=settings.LOGIN_MAX_FAILURES).order_by("-last")[:LOCKS_SHOWN]
    )
    users = {u.username: u for u in managed_users(user).filter(username__in={r["username"] for r in rows})}
    return [
        {"user": users[r["username"]], "address": r["ip_address"], "failures": r["failures"],
         "until": r["last"] + throttle.cool_off()}
        for r in rows if r["username"] in users
    ]


def address_locks(user) -> list[dict]:
    """Addresses refused for every account now (for those who manage a whole tree): address, failures, how
    many user names were tried, until."""
    if not policies.can_lift_address_lock(user):
        return []
    rows = (
        throttle.recent_attempts().values("ip_address")
        .annotate(failures=Sum("failures_since_start"), last=Max("attempt_time"),
                  usernames=Count("username", distinct=True))
        .filter(failures__gte=settings.LOGIN_ADDRESS_MAX_FAILURES).order_by("-last")[:LOCKS_SHOWN]
    )
    return [
        {"address": r["ip_address"], "failures": r["failures"], "usernames": r["usernames"],
         "until": r["last"] + throttle.cool_off()}
        for r in rows
    ]


def account_lock(user, *, username: str, address: str) -> dict | None:
    """One lock from ``account_locks``, or None (none there, or not the user's to see)."""
    target = managed_users(user).filter(username=username).first()
    if target is None:
        return None
    failures = (
        throttle.recent_attempts().filter(username=username, ip_address=address)
        .aggregate(n=Sum("failures_since_start"))["n"] or 0
    )
    if failures < settings.LOGIN_MAX_FAILURES:
        return None
    return {"user": target, "address": address, "failures": failures}


def address_lock(user, *, address: str) -> dict | None:
    if not policies.can_lift_address_lock(user):
        return None
    return next((row for row in address_locks(user) if row["address"] == address), None)


def throttle_limits() -> dict:
    return {"account": settings.LOGIN_MAX_FAILURES, "address": settings.LOGIN_ADDRESS_MAX_FAILURES,
            "minutes": settings.LOGIN_LOCKOUT_MINUTES}


def working_tokens(qs: QuerySet[ApiToken]) -> QuerySet[ApiToken]:
    """Those of ``qs`` neither revoked nor expired."""
    return qs.filter(Q(expires_at=None) | Q(expires_at__gt=timezone.now()), revoked_at=None)


def own_tokens(user) -> QuerySet[ApiToken]:
    return ApiToken.objects.filter(user=user).order_by("-created_at", "-id")


def managed_tokens(user) -> QuerySet[ApiToken]:
    """Tokens of the users ``user`` manages, newest first."""
    return (
        ApiToken.objects.filter(user__in=managed_users(user)).select_related("user").order_by("-created_at", "-id")
    )


def revocable_token(user, pk: int) -> ApiToken | None:
    """One of the user's own tokens or of a user they manage; None otherwise, as for a missing one."""
    token = ApiToken.objects.select_related("user").filter(pk=pk).first()
    if token is None or not policies.can_revoke_token(user, token):
        return None
    return token


def role_places(user) -> list[dict]:
    """The user's active roles and where: role, node, the node's ancestors (names), unit."""
    assignments = list(user.role_assignments.filter(is_active=True).select_related("node", "unit").order_by("org_path"))
    step = OrgNode.steplen
    wanted = {a.org_path[:i] for a in assignments for i in range(step, len(a.org_path), step)}
    names = dict(OrgNode.objects.filter(path__in=wanted).values_list("path", "name"))
    return [
        {"role": a.get_role_display(), "node": a.node, "unit": a.unit,
         "above": [names[a.org_path[:i]] for i in range(step, len(a.org_path), step) if a.org_path[:i] in names]}
        for a in assignments
    ]


def setup_staff(user, node) -> tuple[int, str, bool]:
    """The set-up checklist's staff step for the county ``node``: accounts holding a staff role in it; done
    once someone holds one below the county itself (a township, a community, a grid)."""
    from gongzhi.core.access import ROLE_PERMS, is_staff_role
    from gongzhi.core.parts import first_url
    from gongzhi.core.scoping import under

    roles = [r for r in ROLE_PERMS if is_staff_role(r)]
    held = RoleAssignment.objects.filter(under(node.path), is_active=True, role__in=roles)
    count = held.values("user_id").distinct().count()
    return count, first_url("accounts:users", "accounts:locks"), held.exclude(org_path=node.path).exists()
