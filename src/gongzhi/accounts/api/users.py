"""Staff account endpoints (mounted at /users): list and make the accounts you manage, give and withdraw roles,
disable and enable an account, reset a password. Scoped like the pages: an account you do not manage answers 404
as a missing one; a role beyond your own or a place outside your area answers 403, and nothing is written."""

from ninja import Query, Router
from ninja.pagination import paginate
from ninja.responses import Status

from gongzhi.core.api import LIST_ERRORS, READ_ERRORS, WRITE_ERRORS, Id, Page, Text

from .. import actions, selectors
from ..schemas import (
    PasswordResetOut,
    ReasonIn,
    RoleAssignIn,
    RoleOut,
    UserCreatedOut,
    UserCreateIn,
    UserDisabledOut,
    UserFilterIn,
    UserOut,
)

router = Router(tags=["users"])


def _place(user, node_id, unit_id):
    """The node and unit named, inside the caller's area; None for one outside it or missing (the action then
    refuses with 403, the same for both)."""
    node = selectors.manage_nodes(user).filter(pk=node_id).first()
    unit = selectors.manage_units(user).filter(pk=unit_id).first() if unit_id else None
    if unit_id and unit is None:
        node = None  # a unit beyond the caller: refused like a place beyond them
    return node, unit


def _managed(user, user_id):
    return selectors.users(user).get(pk=selectors.user_get(user, user_id).pk)


@router.get("", response={200: list[UserOut], **LIST_ERRORS}, summary="List the accounts you manage")
@paginate(Page)
def user_list(request, filters: Query[UserFilterIn]):
    """Accounts whose every role lies in your area and is one you could give, newest first, with their active
    roles. A `node_id` outside your area gives an empty list."""
    user = request.auth
    node = None
    if filters.node_id is not None:
        node = selectors.manage_nodes(user).filter(pk=filters.node_id).first()
        if node is None:
            return selectors.users(user).none()
    return selectors.users(user, q=filters.q, node=node, role=filters.role or "", status=filters.status or "")


@router.post("", response={201: UserCreatedOut, **WRITE_ERRORS}, summary="Make a staff account")
def user_create(request, payload: UserCreateIn):
    """A staff account with its first role; the mobile number is its login name. The answer holds a one-time
    password, shown only here, which the person must change at their first login. 403 when the role has more
    rights than you hold at the node, or the node or unit lies outside your area; 422 for a phone already used
    or not a mobile number, or a role that is not held at such a node."""
    node, unit = _place(request.auth, payload.node_id, payload.unit_id)
    created, raw = actions.user_create(by=request.auth, display_name=payload.display_name, phone=payload.phone,
                                       role=payload.role, node=node, unit=unit)
    out = _managed(request.auth, created.pk)
    out.one_time_password = raw
    return Status(201, out)


@router.get("/{user_id}", response={200: UserOut, **READ_ERRORS}, summary="One account you manage")
def user_get(request, user_id: Id):
    return _managed(request.auth, user_id)


@router.get("/{user_id}/roles", response={200: list[RoleOut], **READ_ERRORS}, summary="An account's roles, with history")
def role_list(request, user_id: Id):
    """Every role the account holds or held: withdrawn ones stay, with when and why."""
    return selectors.role_history(selectors.user_get(request.auth, user_id))


@router.post("/{user_id}/roles", response={201: RoleOut, **WRITE_ERRORS}, summary="Give a role")
def role_assign(request, user_id: Id, payload: RoleAssignIn):
    """`{"role": code, "node_id": id}` (and `unit_id` for a department handler or partner-unit contact). 403 when
    it would give more rights than you hold there or reach outside your area; 404 for an account you do not
    manage; 422 for a role not held at such a node, or held there already."""
    target = selectors.user_get(request.auth, user_id)
    node, unit = _place(request.auth, payload.node_id, payload.unit_id)
    assignment = actions.role_assign(user=target, role=payload.role, node=node, unit=unit, by=request.auth)
    return Status(201, assignment)


@router.delete("/{user_id}/roles/{role_id}", response={200: RoleOut, **WRITE_ERRORS}, summary="Withdraw a role")
def role_withdraw(request, user_id: Id, role_id: Id, reason: Text(max_length=200) = ""):
    """The role stops applying at once and stays in the account's history, with the date and the `reason`."""
    target = selectors.user_get(request.auth, user_id)
    assignment = selectors.assignment_get(request.auth, target, role_id)
    return actions.role_withdraw(assignment=assignment, by=request.auth, reason=reason)


@router.post("/{user_id}/disable", response={200: UserDisabledOut, **WRITE_ERRORS}, summary="Disable an account")
def user_disable(request, user_id: Id, payload: ReasonIn):
    """The person can no longer log in nor use a token; nothing is deleted and the roles stay. The answer lists
    their open work (appeals they accepted, queues nobody else handles) to hand to someone else."""
    target = selectors.user_get(request.auth, user_id)
    work = actions.user_disable(user=target, by=request.auth, reason=payload.reason)
    out = _managed(request.auth, target.pk)
    out.open_work = [{"label": w.label, "count": w.count, "url": w.url} for w in work]
    return out


@router.post("/{user_id}/enable", response={200: UserOut, **WRITE_ERRORS}, summary="Enable an account again")
def user_enable(request, user_id: Id):
    target = selectors.user_get(request.auth, user_id)
    actions.user_enable(user=target, by=request.auth)
    return _managed(request.auth, target.pk)


@router.post("/{user_id}/password-reset", response={200: PasswordResetOut, **WRITE_ERRORS},
             summary="Reset a password")
def password_reset(request, user_id: Id):
    """A new one-time password, returned only here; the person must change it at their next login. Their
    sessions end and their API tokens are revoked. Your own password: change it on the password page."""
    target = selectors.user_get(request.auth, user_id)
    return {"one_time_password": actions.password_reset(user=target, by=request.auth)}
