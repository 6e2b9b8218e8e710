"""Staff accounts and their roles: make an account (the phone is the login name), give and withdraw roles,
reset a password (a one-time password, changed at the next login), disable and enable an account, activate an
imported account with its code, and a party member's account. Each write is atomic, audited, and asks
``policies`` first: PermissionDenied (403) for what is beyond the actor, ValidationError (422) for bad input.

SYSTEM (the demo loader, ``createadmin``, the test factories) may give any role anywhere.
"""

from __future__ import annotations

import datetime as dt
import re
import secrets

from django.conf import settings
from django.contrib.auth import password_validation
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from gongzhi.core import audit, parts
from gongzhi.core.access import SYSTEM, Role
from gongzhi.core.pii import PIIError, normalize_phone
from gongzhi.core.text import TextError, clean_line
from gongzhi.orgs.models import OrgNode, PartyMember, Resident

from .. import policies, selectors
from ..models import ActivationCode, ApiToken, RoleAssignment, User

_MOBILE = re.compile(r"^1[3-9]\d{9}$")
# Lower-case letters and digits a printed slip or a phone screen cannot mix up (no 0/o, 1/l/i).
_OTP_ALPHABET = "23456789abcdefghjkmnpqrstuvwxyz"
OTP_LENGTH = 12
ACTIVATION_DAYS = getattr(settings, "ACCOUNT_ACTIVATION_DAYS", 30)


def mobile_number(value: str) -> str:
    """The login name for a phone as typed: an 11-digit mainland mobile number (``core.pii``'s reading of a
    phone: spaces, brackets and +86 dropped); ValidationError otherwise."""
    try:
        phone = normalize_phone(value)
    except PIIError:
        phone = ""
    if not _MOBILE.match(phone):
        raise ValidationError({"phone": _("The login name is the person's 11-digit mobile number, e.g. 13800001111.")},
                              code="phone")
    return phone


def phone_free(phone: str) -> None:
    if User.objects.filter(username=phone).exists():
        raise ValidationError({"phone": _("The phone number %(phone)s is already used by an account.")
                               % {"phone": phone}}, code="phone_used")


def _line(value: str, field: str) -> str:
    """One line of text as ``core.text`` accepts it; ValidationError on ``field`` otherwise."""
    try:
        return clean_line(value or "")
    except TextError as exc:
        raise ValidationError({field: str(exc)}, code="text") from None


def one_time_password() -> str:
    raw = "".join(secrets.choice(_OTP_ALPHABET) for _ in range(OTP_LENGTH))
    return "-".join(raw[i:i + 4] for i in range(0, OTP_LENGTH, 4))


def _refuse(problem: tuple[str, str] | None) -> None:
    if problem is None:
        return
    kind, message = problem
    if kind == "denied":
        raise PermissionDenied(message)
    raise ValidationError(message, code="role")


def _role_row(*, user: User, role: str, node: OrgNode, unit, by) -> RoleAssignment:
    if RoleAssignment.objects.filter(user=user, role=role, node=node, is_active=True).exists():
        raise ValidationError(_("%(user)s already holds this role at %(node)s.") % {"user": user, "node": node.name},
                              code="role_held")
    actor = by if getattr(by, "is_authenticated", False) else None
    assignment = RoleAssignment.objects.create(user=user, role=role, node=node, org_path=node.path, unit=unit,
                                               assigned_by=actor)
    changes = {"user": user.username, "role": role, "node": str(node)}
    if unit is not None:
        changes["unit"] = unit.name
    audit.record(actor=by, action="role.assign", obj=assignment, org_path=node.path, changes=changes)
    return assignment


@transaction.atomic
def role_assign(*, user: User, role: str, node: OrgNode, by, unit=None) -> RoleAssignment:
    """Give ``user`` the role at ``node`` (for ``unit``: department handlers and partner-unit contacts).
    ``by`` must manage the user (else PermissionDenied, said as for a missing account by the pages and the
    API) and may give only roles within their own (``policies.assign_refusal``); SYSTEM gives any."""
    if by is SYSTEM:  # the demo, the benchmarks, createadmin: giving a role held already changes nothing
        held = RoleAssignment.objects.filter(user=user, role=role, node=node, is_active=True).first()
        if held is not None:
            return held
    elif not policies.can_manage_user(by, user):
        raise PermissionDenied(_("You do not manage this account."))
    _refuse(policies.assign_refusal(by, role, node, unit))
    return _role_row(user=user, role=role, node=node, unit=unit, by=by)


@transaction.atomic
def role_withdraw(*, assignment: RoleAssignment, by, reason: str = "") -> RoleAssignment:
    """Withdraw a role: kept, with when, by whom and why; the person's appeals and audit trail stay theirs."""
    if not assignment.is_active:
        raise ValidationError(_("This role was withdrawn already."), code="withdrawn")
    if by is not SYSTEM and not policies.can_withdraw(by, assignment):
        raise PermissionDenied(_("You may not withdraw this role."))
    reason = _line(reason, "reason")[:200]
    assignment.is_active = False
    assignment.withdrawn_at = timezone.now()
    assignment.withdrawn_by = by if getattr(by, "is_authenticated", False) else None
    assignment.withdraw_reason = reason
    assignment.save(update_fields=["is_active", "withdrawn_at", "withdrawn_by", "withdraw_reason"])
    audit.record(actor=by, action="role.withdraw", obj=assignment, reason=reason,
                 changes={"user": assignment.user.username, "role": assignment.role, "node": str(assignment.node)})
    return assignment


@transaction.atomic
def role_move(*, assignment: RoleAssignment, node: OrgNode, by, reason: str = "") -> RoleAssignment:
    """The same role at another node (a grid worker moving to another grid): the old one withdrawn with the
    reason, the new one given; both kept in the history."""
    user, role, unit = assignment.user, assignment.role, assignment.unit
    if by is not SYSTEM and not policies.can_withdraw(by, assignment):
        raise PermissionDenied(_("You may not withdraw this role."))
    _refuse(policies.assign_refusal(by, role, node, unit))
    role_withdraw(assignment=assignment, by=by, reason=reason)
    return _role_row(user=user, role=role, node=node, unit=unit, by=by)


@transaction.atomic
def user_create(*, by, display_name: str, phone: str, role: str, node: OrgNode, unit=None,
                username: str | None = None, hashed_password: str | None = None) -> tuple[User, str | None]:
    """A staff account with its first role. The phone is the login name. The account gets a one-time password,
    returned here once (hashed with the configured hasher, never stored plain), which must be changed at the
    first login.

    SYSTEM only (the demo): ``username``, a login name other than a phone, and ``hashed_password``, a password
    hashed already (the demo's published one, hashed once for all its accounts), kept without a forced change;
    None is then returned for the password."""
    if by is not SYSTEM and (username is not None or hashed_password is not None):
        raise PermissionDenied(_("You may not choose the login name or the password of an account."))
    display_name = _line(display_name, "display_name")
    if not display_name:
        raise ValidationError({"display_name": _("Give the person's name.")}, code="required")
    login = username or mobile_number(phone)
    if by is not SYSTEM and not policies.can_manage_users(by):
        raise PermissionDenied(_("You may not make accounts."))
    _refuse(policies.assign_refusal(by, role, node, unit))
    phone_free(login)
    raw = None
    user = User(username=login, display_name=display_name[:50], must_change_password=hashed_password is None,
                created_by=by if getattr(by, "is_authenticated", False) else None)
    if hashed_password is None:
        raw = one_time_password()
        user.set_password(raw)
    else:
        user.password = hashed_password
    try:
        with transaction.atomic():
            user.save()
    except IntegrityError:  # made meanwhile by someone else
        phone_free(login)
        raise
    audit.record(actor=by, action="user.create", obj=user, org_path=node.path,
                 changes={"username": login, "display_name": user.display_name})
    _role_row(user=user, role=role, node=node, unit=unit, by=by)
    return user, raw


@transaction.atomic
def password_reset(*, user: User, by) -> str:
    """A new one-time password for ``user``, returned once; they must change it at their next login. Their
    sessions end (the password hash changed) and their API tokens are revoked."""
    if by is not SYSTEM and not policies.can_change_account(by, user):
        raise PermissionDenied(_("You may not reset this password."))
    raw = one_time_password()
    user.set_password(raw)
    user.must_change_password = True
    user.save(update_fields=["password", "must_change_password"])
    revoked = ApiToken.objects.filter(user=user, revoked_at=None).update(revoked_at=timezone.now())
    audit.record(actor=by, action="user.password_reset", obj=user, org_path=selectors.home_path(user),
                 changes={"tokens_revoked": revoked})
    return raw


@transaction.atomic
def user_disable(*, user: User, by, reason: str) -> list[parts.OpenWork]:
    """Disable an account (someone left): they can no longer log in nor use a token; nothing is deleted and
    their roles stay as they were, so enabling gives the account back. Returns their open work, to reassign."""
    if by is not SYSTEM and not policies.can_change_account(by, user):
        raise PermissionDenied(_("You may not disable this account."))
    reason = _line(reason, "reason")[:200]
    if not reason:
        raise ValidationError({"reason": _("Say why the account is disabled.")}, code="required")
    if not user.is_active:
        raise ValidationError(_("This account is disabled already."), code="disabled")
    user.is_active = False
    user.disabled_at = timezone.now()
    user.disabled_reason = reason
    user.save(update_fields=["is_active", "disabled_at", "disabled_reason"])
    work = parts.open_work_of(user)
    audit.record(actor=by, action="user.disable", obj=user, org_path=selectors.home_path(user), reason=reason,
                 changes={"open_work": {w.label: w.count for w in work}})
    return work


@transaction.atomic
def user_enable(*, user: User, by) -> User:
    if by is not SYSTEM and not policies.can_change_account(by, user):
        raise PermissionDenied(_("You may not enable this account."))
    if user.is_active:
        raise ValidationError(_("This account is not disabled."), code="active")
    user.is_active = True
    user.disabled_at = None
    user.disabled_reason = ""
    user.save(update_fields=["is_active", "disabled_at", "disabled_reason"])
    audit.record(actor=by, action="user.enable", obj=user, org_path=selectors.home_path(user))
    return user


def check_new_password(password: str, user: User) -> None:
    """The configured password rules (``AUTH_PASSWORD_VALIDATORS``); ValidationError on the new password."""
    try:
        password_validation.validate_password(password, user)
    except ValidationError as exc:
        raise ValidationError({"new_password": exc.messages}, code="password") from None


# --- activation codes for imported accounts ---------------------------------------------------------------


def needs_activation(user: User) -> bool:
    """An imported account nobody has chosen a password for yet."""
    return user.is_active and not user.has_usable_password()


@transaction.atomic
def activation_codes(*, users, by, job=None) -> list[tuple[User, str]]:
    """A new code for each of ``users`` that still needs activating, valid ``ACTIVATION_DAYS``; earlier codes
    of theirs stop working. The codes are returned once (for the sheet handed out) and stored as SHA-256."""
    users = [u for u in users if needs_activation(u)]
    if by is not SYSTEM:  # the rule of policies.can_change_account, for all of them in one query
        managed = set(selectors.managed_users(by).filter(pk__in=[u.pk for u in users]).values_list("pk", flat=True))
        refused = [u for u in users if u.pk not in managed or u.pk == by.pk]
        if refused:
            raise PermissionDenied(_("You may not make activation codes for %(user)s.") % {"user": refused[0]})
    now = timezone.now()
    ActivationCode.objects.filter(user__in=users, used_at=None).update(expires_at=now)
    out, rows = [], []
    expires = now + dt.timedelta(days=ACTIVATION_DAYS)
    actor = by if getattr(by, "is_authenticated", False) else None
    for user in users:
        raw = ActivationCode.new_raw()
        rows.append(ActivationCode(user=user, code_hash=ActivationCode.hash_of(raw), expires_at=expires,
                                   created_by=actor))
        out.append((user, raw))
    ActivationCode.objects.bulk_create(rows, batch_size=1000)
    if job is not None:
        audit.record(actor=by, action="user.activation_codes", obj=job, org_path=job.org_path,
                     changes={"accounts": len(out), "expires_at": expires})
    else:
        audit.record_many(actor=by, action="user.activation_codes", subjects=users,
                          changes={"accounts": len(out), "expires_at": expires})
    return out


def _activation_refused() -> ValidationError:
    return ValidationError(_("This phone number and activation code do not match an account waiting to be "
                             "activated, or the code has expired or been used."), code="activation")


@transaction.atomic
def account_activate(*, username: str, code: str, new_password: str) -> User:
    """Someone whose account was imported chooses their password with their activation code. The same
    answer for an unknown phone, a wrong, used or expired code (the caller throttles the attempts)."""
    code_hash = ActivationCode.hash_of(code)
    found = (ActivationCode.objects.select_for_update().select_related("user")
             .filter(code_hash=code_hash, user__username=username).first())
    if found is None or not found.is_usable or not needs_activation(found.user):
        raise _activation_refused()
    user = found.user
    check_new_password(new_password, user)
    user.set_password(new_password)
    user.must_change_password = False
    user.save(update_fields=["password", "must_change_password"])
    found.used_at = timezone.now()
    found.save(update_fields=["used_at"])
    audit.record(actor=user, action="user.activate", obj=user, org_path=selectors.home_path(user))
    return user


# --- party members -----------------------------------------------------------------------------------------


@transaction.atomic
def party_member_account(*, member: PartyMember, by, phone: str = "") -> tuple[User, str | None]:
    """The account of a party member, made or linked by their branch's staff (``party.edit`` over them): the
    account whose login name is ``phone`` when it exists, belongs to nobody on the registry and is not a
    staff account; else a new account with a one-time password (returned once). Either way it is linked to
    the member's resident record and holds the resident role at their household's grid."""
    if by is not SYSTEM and not policies.can_link_party_member(by, member):
        raise PermissionDenied(_("You may not change this party member."))
    resident = Resident.objects.select_for_update().select_related("grid", "household").get(pk=member.resident_id)
    if resident.user_id:
        raise ValidationError(_("%(name)s already has an account.") % {"name": resident.name}, code="linked")
    phone = mobile_number(phone)
    raw = None
    user = User.objects.filter(username=phone).first()
    if user is not None:
        staff = user.is_superuser or user.role_assignments.filter(is_active=True).exclude(role=Role.RESIDENT).exists()
        if staff or Resident.objects.filter(user=user).exists() or not user.is_active:
            raise ValidationError({"phone": _("The account %(phone)s cannot be linked: it belongs to someone else "
                                              "on the registry, to staff, or is disabled.") % {"phone": phone}},
                                  code="phone_used")
        action = "party_member.account_link"
    else:
        raw = one_time_password()
        user = User(username=phone, display_name=resident.name[:50], must_change_password=True,
                    created_by=by if getattr(by, "is_authenticated", False) else None)
        user.set_password(raw)
        user.save()
        action = "party_member.account_create"
    resident.user = user
    resident.save(update_fields=["user"])
    grid = resident.household.micro_grid if getattr(resident.household, "micro_grid_id", None) else resident.grid
    if not RoleAssignment.objects.filter(user=user, role=Role.RESIDENT, is_active=True).exists():
        _role_row(user=user, role=Role.RESIDENT, node=grid, unit=None, by=by)
    audit.record(actor=by, action=action, obj=member, changes={"username": phone, "resident": resident.name})
    return user, raw
