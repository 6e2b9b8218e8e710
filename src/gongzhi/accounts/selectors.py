"""Account reads, scoped like everything else: the users someone manages (``policies``), their login locks
and their API tokens, and where a user's roles are held."""

from __future__ import annotations

from django.conf import settings
from functools import reduce
from operator import or_

from django.db.models import Count, Max, Q, QuerySet, Sum
from django.utils import timezone

from gongzhi.core.access import ROLE_PERMS
from gongzhi.core.scoping import scope_q, under
from gongzhi.orgs.models import OrgNode

from . import policies, throttle
from .models import ApiToken, RoleAssignment, User
from gongzhi.orgs.permissions import Perm

LOCKS_SHOWN = 500


def _fit_q(user) -> Q | None:
    """Role assignments ``user`` could have given (``policies.role_fits``), as one condition: per subtree where
    they hold ``users.manage``, the roles whose permissions they hold there; a unit's role for a unit of their
    area only. None: they manage nobody's roles."""
    paths = policies.manage_paths(user)
    if not paths:
        return None
    regions = sorted({a.org_path for a in user.active_assignments if any(a.org_path.startswith(p) for p in paths)})
    q = None
    for region in regions:
        held = policies.perms_at(user, region)
        roles = [r for r, perms in ROLE_PERMS.items() if perms <= held]
        part = under(region) & Q(role__in=roles)
        q = part if q is None else q | part
    units = reduce(or_, (under(p, "unit__org_path") for p in paths))
    return q & (Q(unit__isnull=True) | units)


def managed_users(user) -> QuerySet[User]:
    """The users ``user`` manages: the same rule as ``policies.can_manage_user``, as one query."""
    if not policies.can_manage_users(user):
        return User.objects.none()
    if user.is_superuser:
        return User.objects.all()
    fit = _fit_q(user)
    roles = RoleAssignment.objects.all()
    active = roles.filter(is_active=True)
    qs = User.objects.filter(is_superuser=False)
    with_active = Q(pk__in=active.filter(fit).values("user_id")) & ~Q(pk__in=active.exclude(fit).values("user_id"))
    only_withdrawn = (~Q(pk__in=active.values("user_id")) & Q(pk__in=roles.filter(fit).values("user_id"))
                      & ~Q(pk__in=roles.exclude(fit).values("user_id")))
    q = with_active | only_withdrawn
    if policies.manages_everything(user):
        q |= ~Q(pk__in=roles.values("user_id"))
    return qs.filter(q)


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


# --- joining by real name ------------------------------------------------------------------------------------------

PENDING_COUNT_CAP = 99


def _join_request_q(user):
    """Requests the user may decide: ``registry.edit`` over their place, or ``party.edit`` for a party member's."""
    from .models import JoinRequest  # noqa: F401  (the model of the rows this Q filters)

    q = scope_q(user, Perm.REGISTRY_EDIT)
    party = scope_q(user, Perm.PARTY_EDIT)
    if party is not None:
        party = party & Q(party_member__isnull=False)
        q = party if q is None else q | party
    return q


def join_requests(user) -> QuerySet:
    """The join requests in the user's area, newest first."""
    from .models import JoinRequest

    q = _join_request_q(user)
    if q is None:
        return JoinRequest.objects.none()
    return (JoinRequest.objects.filter(q)
            .select_related("household", "party_member__resident", "community", "compound", "building",
                            "resident", "decided_by", "code")
            .order_by("-created_at", "-id"))


def pending_join_requests(user) -> QuerySet:
    from .models import JoinRequest

    return join_requests(user).filter(status=JoinRequest.Status.PENDING)


def pending_join_count(user) -> int:
    """Waiting requests in the user's area, counted up to ``PENDING_COUNT_CAP + 1``."""
    if not policies.sees_join_requests(user):
        return 0
    return pending_join_requests(user).order_by().values("pk")[: PENDING_COUNT_CAP + 1].count()


def join_request_get(user, pk):
    """One request in the user's area; Http404 for a missing one and one out of the area alike."""
    from django.http import Http404

    try:
        return join_requests(user).get(pk=pk)
    except (ValueError, TypeError, OverflowError):
        raise Http404("not found") from None
    except join_requests(user).model.DoesNotExist:
        raise Http404("not found") from None


def join_candidates(user, join_request) -> list:
    """The registry members the request may be linked to, in the decider's area, without an account: the
    party member; the code's household; the building's households; for a place without buildings, the
    community's households whose address starts like the one given (at most 200)."""
    from gongzhi.core.scoping import under
    from gongzhi.orgs.models import Resident

    if join_request.party_member_id:
        qs = Resident.objects.filter(pk=join_request.party_member.resident_id)
        if not user.can(Perm.PARTY_EDIT, join_request.org_path):
            qs = qs.filter(scope_q(user, Perm.REGISTRY_EDIT) or Q(pk__in=[]))
    else:
        qs = Resident.objects.filter(scope_q(user, Perm.REGISTRY_EDIT) or Q(pk__in=[]))
        if join_request.household_id:
            qs = qs.filter(household_id=join_request.household_id)
        elif join_request.building_id:
            qs = qs.filter(household__building_id=join_request.building_id)
        else:
            qs = qs.filter(under(join_request.org_path))
            if join_request.address:
                qs = qs.filter(household__address__startswith=join_request.address[:6])
    return list(qs.filter(user__isnull=True).select_related("household").order_by("household__address", "birth_date")[:200])


def join_match_hints(join_request, candidates) -> dict[int, dict]:
    """For the decider: which candidates have the name, and which the last 4 of the ID number, that the person
    asking gave (decrypted here, one household or building at a time; never shown in full)."""
    from gongzhi.core.pii import decrypt

    last4 = decrypt(join_request.id_last4_enc)
    name = "".join(join_request.name.split())
    hints = {}
    for r in candidates:
        number = decrypt(r.id_number_enc)
        hints[r.pk] = {"name": "".join(r.name.split()) == name, "last4": bool(number) and number[-4:] == last4}
    return hints


def household_join_codes(user, household) -> QuerySet:
    from .models import JoinCode

    if not policies.can_issue_household_code(user, household):
        return JoinCode.objects.none()
    return JoinCode.objects.filter(household=household).select_related("created_by").order_by("-created_at", "-id")


def join_code_get(user, pk):
    """A code the user may print or revoke (``policies.can_revoke_join_code``); Http404 otherwise."""
    from django.http import Http404

    from .models import JoinCode

    try:
        code = JoinCode.objects.select_related("household", "party_member__resident").get(pk=pk)
    except (JoinCode.DoesNotExist, ValueError, TypeError, OverflowError):
        raise Http404("not found") from None
    if not policies.can_revoke_join_code(user, code):
        raise Http404("not found")
    return code


def join_places(*, community_id=None, compound_id=None) -> list:
    """The places someone joining without a code picks from (public: names of places only): communities;
    a community's compounds; a compound's buildings."""
    from gongzhi.orgs.models import Building, Compound, NodeKind

    if compound_id is not None:
        return list(Building.objects.filter(compound_id=compound_id).order_by("name").values_list("pk", "name"))
    if community_id is not None:
        return list(Compound.objects.filter(community_id=community_id).order_by("name").values_list("pk", "name"))
    rows = list(OrgNode.objects.filter(kind=NodeKind.COMMUNITY, is_active=True).order_by("path")
                .values_list("pk", "name", "path"))
    step = OrgNode.steplen
    above = dict(OrgNode.objects.filter(path__in={p[:-step] for _pk, _n, p in rows}).values_list("path", "name"))
    return [(pk, f"{above[p[:-step]]} · {name}" if p[:-step] in above else name) for pk, name, p in rows]


def linkable_resident(user, join_request, pk):
    """A registry member the user may link ``join_request`` to: one in their ``registry.edit`` area, or the
    request's party member for the branch; Http404 for anyone else, as for a missing one."""
    from django.http import Http404

    from gongzhi.orgs.models import Resident

    q = scope_q(user, Perm.REGISTRY_EDIT)
    if join_request.party_member_id and user.can(Perm.PARTY_EDIT, join_request.org_path):
        own = Q(pk=join_request.party_member.resident_id)
        q = own if q is None else q | own
    if q is None:
        raise Http404("not found")
    try:
        return Resident.objects.select_related("household").filter(q).get(pk=pk)
    except (Resident.DoesNotExist, ValueError, TypeError, OverflowError):
        raise Http404("not found") from None
# --- staff accounts (the user pages and the API) ---------------------------------------------------------


class Status:
    ACTIVE = "active"
    DISABLED = "disabled"
    WAITING = "waiting"  # imported, not activated yet


def users(user, *, q: str = "", node: OrgNode | None = None, role: str = "", status: str = "") -> QuerySet[User]:
    """The accounts ``user`` manages, newest first, each with its active roles (``active_roles``): those with
    an active role under ``node`` (of ``role``; "staff": any staff role, leaving residents' own accounts out, as
    the staff page does by default: tens of thousands of them would bury the staff; staff whose roles were all
    withdrawn are kept), whose name or login name holds ``q``, of ``status``."""
    from django.db.models import Prefetch

    from gongzhi.core.access import is_staff_role

    qs = managed_users(user)
    held = RoleAssignment.objects.filter(is_active=True)
    if node is not None:
        held = held.filter(under(node.path))
    if role and role != "staff":
        qs = qs.filter(pk__in=held.filter(role=role).values("user_id"))
    elif role == "staff":
        staff = [r for r in ROLE_PERMS if is_staff_role(r)]
        any_active = RoleAssignment.objects.filter(is_active=True).values("user_id")
        in_place = held.filter(role__in=staff).values("user_id")
        qs = qs.filter(Q(pk__in=in_place) | (~Q(pk__in=any_active) if node is None else Q(pk__in=[])))
    elif node is not None:
        qs = qs.filter(pk__in=held.values("user_id"))
    q = (q or "").strip()
    if q:
        qs = qs.filter(Q(display_name__icontains=q) | Q(username__contains=q))
    if status == Status.ACTIVE:
        qs = qs.filter(is_active=True).exclude(password__startswith="!")
    elif status == Status.DISABLED:
        qs = qs.filter(is_active=False)
    elif status == Status.WAITING:
        qs = qs.filter(is_active=True, password__startswith="!")
    roles = RoleAssignment.objects.filter(is_active=True).select_related("node", "unit").order_by("org_path", "id")
    return qs.prefetch_related(Prefetch("role_assignments", queryset=roles, to_attr="active_roles")).order_by("-id")


def user_get(user, pk) -> User:
    """One account ``user`` manages; Http404 for a missing one and for one they do not manage alike."""
    from django.http import Http404

    try:
        return managed_users(user).get(pk=pk)
    except (User.DoesNotExist, ValueError, TypeError):
        raise Http404("not found") from None


def role_history(target) -> list[RoleAssignment]:
    """Every role the account held or holds, active first, then the withdrawn ones, latest first."""
    rows = target.role_assignments.select_related("node", "unit", "assigned_by", "withdrawn_by")
    return sorted(rows, key=lambda a: (not a.is_active, -(a.withdrawn_at or a.created_at).timestamp(), -a.pk))


def assignment_get(user, target, pk) -> RoleAssignment:
    from django.http import Http404

    found = target.role_assignments.select_related("node", "unit", "user").filter(pk=pk).first()
    if found is None:
        raise Http404("not found")
    return found


def manage_nodes(user):
    """Org nodes inside the subtrees where ``user`` manages users, in tree order (for the forms)."""
    qs = OrgNode.objects.all()
    if not user.is_superuser:
        paths = policies.manage_paths(user)
        if not paths:
            return OrgNode.objects.none()
        qs = qs.filter(reduce(or_, (under(p, "path") for p in paths)))
    return qs.order_by("path")


def manage_units(user):
    """Units (departments, partner units) belonging to the subtrees where ``user`` manages users."""
    from gongzhi.orgs.models import Unit

    qs = Unit.objects.all()
    if not user.is_superuser:
        paths = policies.manage_paths(user)
        if not paths:
            return Unit.objects.none()
        qs = qs.filter(reduce(or_, (under(p) for p in paths)))
    return qs.order_by("kind", "name")


def open_work(target) -> list:
    """What ``target`` still has in hand, as every app says (``core.parts.open_work``)."""
    from gongzhi.core import parts

    return parts.open_work_of(target)


def waiting_activation(users_qs) -> QuerySet[User]:
    """Those of ``users_qs`` imported and never activated (no usable password), still active."""
    return users_qs.filter(is_active=True, password__startswith="!")


def party_member_get(user, pk):
    """A party member ``user`` may give an account to (``party.edit`` over them); Http404 otherwise."""
    from gongzhi.core.scoping import get_scoped
    from gongzhi.orgs.models import PartyMember

    return get_scoped(PartyMember.objects.select_related("resident", "organization", "resident__user"), user,
                      Perm.PARTY_EDIT, pk=pk)
