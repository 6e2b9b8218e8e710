"""Joining by real name: join codes for a household or a party member, joining with a code (matched to the
registry at once, or waiting for the grid worker), asking to join without a code, the grid worker's decision,
and unlinking a resident who moved out. Every write is atomic and audited.

What the person joining is told never depends on the registry: a code that does not match a member of its
household answers exactly as a request waiting for the grid worker does, whatever was wrong (the name, the
last four characters of the ID number, a member who has an account already). Only what is about the code
itself (unknown, expired, revoked, used) or the account (a weak password, a phone that has an account)
is said plainly, and then nothing is written.

A household code links each member of the household once (several members may each use it, each with their
own phone); once every member has an account it is used up. A party member's code links that member once.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass

from django.conf import settings
from django.contrib.auth.hashers import make_password
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from gongzhi.core import audit
from gongzhi.core.access import SYSTEM, Role
from gongzhi.core.pii import PIIError, blind_index, decrypt, encrypt, mask_phone, normalize_phone
from gongzhi.orgs.models import Building, Compound, Household, NodeKind, OrgNode, PartyMember, Resident

from .. import policies, sms, throttle
from ..models import JOIN_CODE_ALPHABET, JOIN_CODE_LENGTH, JoinCode, JoinRequest, PhoneCheck, RoleAssignment, User
from .users import role_assign, role_withdraw

_MOBILE = re.compile(r"^1[3-9]\d{9}$")
_LAST4 = re.compile(r"^\d{3}[\dX]$")
_CODE_SEPARATORS = re.compile(r"[\s\-_.·]")
PHONE_CHECK_MINUTES = 10
PHONE_CHECK_TRIES = 5


# --- codes ---------------------------------------------------------------------------------------------------------


def normalize_code(raw: str) -> str:
    """What someone typed (``abcd-2345``, with spaces) as the code's characters; "" when it cannot be one."""
    code = _CODE_SEPARATORS.sub("", (raw or "")).upper()
    if len(code) != JOIN_CODE_LENGTH or any(c not in JOIN_CODE_ALPHABET for c in code):
        return ""
    return code


def code_hash(code: str) -> str:
    return blind_index("joincode", code) if code else ""


def format_code(code: str) -> str:
    """ABCD-EFGH: two groups of four, to read out and type."""
    return f"{code[:4]}-{code[4:]}" if len(code) == JOIN_CODE_LENGTH else code


def join_code_expiry(days: int | None) -> dt.datetime:
    choices = policies.join_code_day_choices()
    if days is None:
        days = settings.JOIN_CODE_DEFAULT_DAYS
    if days not in choices:
        raise ValidationError(
            {"days": _("Choose how many days the code works: %(choices)s.")
             % {"choices": ", ".join(str(d) for d in choices)}}, code="join_days",
        )
    return timezone.now() + dt.timedelta(days=days)


@transaction.atomic
def join_code_create(*, by, household: Household | None = None, party_member: PartyMember | None = None,
                     days: int | None = None) -> tuple[JoinCode, str]:
    """A new code for a household (``registry.edit`` over it) or a party member (``party.edit`` over them);
    the code is returned to show and print."""
    if (household is None) == (party_member is None):
        raise ValueError("a join code is for a household or for a party member")
    if household is not None and not policies.can_issue_household_code(by, household):
        raise PermissionDenied(_("You may not make join codes for this household."))
    if party_member is not None and not policies.can_issue_party_code(by, party_member):
        raise PermissionDenied(_("You may not make join codes for this party member."))
    expires_at = join_code_expiry(days)
    while True:
        raw = "".join(secrets.choice(JOIN_CODE_ALPHABET) for _i in range(JOIN_CODE_LENGTH))
        if not JoinCode.objects.filter(code_hash=code_hash(raw)).exists():
            break
    target = household or party_member
    code = JoinCode.objects.create(
        kind=JoinCode.Kind.HOUSEHOLD if household else JoinCode.Kind.PARTY_MEMBER,
        household=household, party_member=party_member, org_path=target.org_path,
        code_hash=code_hash(raw), code_enc=encrypt(raw), expires_at=expires_at,
        created_by=by if getattr(by, "is_authenticated", False) else None,
    )
    audit.record(actor=by, action="join.code_create", obj=code,
                 changes={"kind": code.kind, "for": str(target), "expires_at": expires_at})
    return code, raw


@transaction.atomic
def join_code_revoke(*, code: JoinCode, by) -> JoinCode:
    if not policies.can_revoke_join_code(by, code):
        raise PermissionDenied(_("You may not revoke this join code."))
    if code.revoked_at is None:
        code.revoked_at = timezone.now()
        code.save(update_fields=["revoked_at"])
        audit.record(actor=by, action="join.code_revoke", obj=code, changes={"for": str(code)})
    return code


# --- joining -------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Joined:
    """What a try at joining came to: ``status`` "active" (the account is made, linked and may log in) or
    "pending" (a request waits for the grid worker); ``user`` is the account when active."""

    status: str
    join_request: JoinRequest
    user: User | None = None


@dataclass(frozen=True)
class JoinRefused(Exception):
    """Joining refused by the throttle; ``lock`` says why and for how long. Nothing was checked."""

    lock: throttle.JoinLock

    def __str__(self):
        return self.lock.message()


def _same_name(a: str, b: str) -> bool:
    return "".join(a.split()) == "".join(b.split())


def _last4(value: str) -> str:
    return (value or "").strip().upper()


def _clean_person(*, name: str, id_last4: str, phone: str | None, password: str | None) -> dict:
    """Check what the person typed (nothing of the registry); ValidationError naming each field."""
    errors = {}
    name = " ".join((name or "").split())
    if not name or len(name) > 50:
        errors["name"] = _("Enter your name as it is on your ID card.")
    last4 = _last4(id_last4)
    if not _LAST4.match(last4):
        errors["id_last4"] = _("Enter the last 4 characters of your ID number (digits; the last may be X).")
    phone_norm = ""
    if phone is not None:
        try:
            phone_norm = normalize_phone(phone)
        except PIIError:
            phone_norm = ""
        if not _MOBILE.match(phone_norm):
            errors["phone"] = _("Enter your 11-digit mobile number: it is your login name.")
    if password is not None and "phone" not in errors and "name" not in errors:
        try:
            validate_password(password, User(username=phone_norm, display_name=name))
        except ValidationError as exc:
            errors["password"] = exc.messages
    if errors:
        raise ValidationError(errors)
    return {"name": name, "last4": last4, "phone": phone_norm}


def _phone_free(phone: str) -> None:
    """A new account's phone has none yet, nor a request waiting (asked after the throttle counted the try, so
    nobody finds out without end which phones have accounts)."""
    if User.objects.filter(username=phone).exists():
        raise ValidationError({"phone": _("This phone number has an account already: log in with it, or ask your "
                                          "grid worker to reset its password.")})
    if JoinRequest.objects.filter(phone_hash=blind_index("phone", phone), status=JoinRequest.Status.PENDING).exists():
        raise ValidationError({"phone": _("A request to join with this phone number is waiting for the grid "
                                          "worker already.")})


def _check_phone(phone: str, sms_code: str) -> None:
    """Where phones are verified, the texted code is right: checked in a transaction of its own, so a wrong
    code counts against the code's tries although the join writes nothing."""
    if not settings.JOIN_VERIFY_PHONE:
        return
    with transaction.atomic():
        problem = _sms_code_problem(phone, sms_code)
    if problem:
        raise ValidationError({"sms_code": problem})


def _sms_code_problem(phone: str, sms_code: str) -> str | None:
    check = (PhoneCheck.objects.select_for_update()
             .filter(phone_hash=blind_index("phone", phone), used_at=None, expires_at__gt=timezone.now())
             .order_by("-created_at").first())
    given = (sms_code or "").strip()
    if check is None or check.tries >= PHONE_CHECK_TRIES:
        return _("Ask for a new code to be sent to your phone.")
    if not given or not hmac.compare_digest(check.code_hash, _sms_hash(phone, given)):
        PhoneCheck.objects.filter(pk=check.pk).update(tries=check.tries + 1)
        return _("The code from the text message is wrong.")
    check.used_at = timezone.now()
    check.save(update_fields=["used_at"])
    return None


def _sms_hash(phone: str, code: str) -> str:
    return hashlib.sha256(f"{settings.SECRET_KEY}:{phone}:{code}".encode()).hexdigest()


def phone_check_send(*, request, phone: str) -> sms.SmsResult:
    """Send a 6-digit code to ``phone`` (joining, where the deployment verifies phones). Counted by the join
    throttle like a try at joining. What the backend did is returned: the page says "sent" only when it was."""
    try:
        phone = normalize_phone(phone)
    except PIIError:
        phone = ""
    if not _MOBILE.match(phone):
        raise ValidationError({"phone": _("Enter your 11-digit mobile number: it is your login name.")})
    lock = throttle.join_reserve(request)
    if lock is not None:
        raise JoinRefused(lock)
    code = f"{secrets.randbelow(10**6):06d}"
    with transaction.atomic():
        PhoneCheck.objects.create(phone_hash=blind_index("phone", phone), code_hash=_sms_hash(phone, code),
                                  expires_at=timezone.now() + dt.timedelta(minutes=PHONE_CHECK_MINUTES))
    return sms.send(phone, _("Your Gongzhi code is %(code)s. It works for %(minutes)s minutes.")
                    % {"code": code, "minutes": PHONE_CHECK_MINUTES})


def code_for(raw: str, *, lock: bool = False) -> JoinCode | None:
    code = normalize_code(raw)
    if not code:
        return None
    qs = JoinCode.objects.select_for_update(of=("self",)) if lock else JoinCode.objects
    return qs.select_related("household", "party_member__resident").filter(code_hash=code_hash(code)).first()


def code_problem(code: JoinCode | None, unlinked: list | None = None) -> str | None:
    """Why a code does not work (for the person holding it), or None. ``unlinked``: the members of a household
    code's household without an account, when the caller has them already."""
    if code is None:
        return _("This join code is not known. Check it against the notice, or ask your grid worker.")
    if code.revoked_at is not None:
        return _("This join code was withdrawn. Ask your grid worker for a new one.")
    if code.is_expired:
        return _("This join code has expired. Ask your grid worker for a new one.")
    if code.kind == JoinCode.Kind.PARTY_MEMBER:
        if code.uses or code.party_member.resident.user_id is not None:
            return _("This join code has been used. Ask your party branch if you need a new one.")
    elif not (unlinked if unlinked is not None
              else Resident.objects.filter(household_id=code.household_id, user__isnull=True).exists()):
        return _("This join code has been used by every member of the household.")
    return None


def _link(*, user: User, resident: Resident, by) -> None:
    """Link ``user`` to ``resident`` (unlinked still, checked under the update) and give the resident role at
    the household's place."""
    if Resident.objects.filter(pk=resident.pk, user__isnull=True).update(user=user) != 1:
        raise ValidationError(_("This resident has an account already."))
    resident.user = user
    household = resident.household  # the role is held at its place: its micro-grid, or its grid
    node = household.micro_grid if household.micro_grid_id else household.grid
    # The join (or the approval) was checked already; the resident role comes with the link, whoever made it.
    role_assign(user=user, role=Role.RESIDENT, node=node, by=SYSTEM)


def _new_account(*, phone: str, name: str, password_hash: str) -> User:
    try:
        with transaction.atomic():
            return User.objects.create(username=phone, display_name=name, password=password_hash)
    except IntegrityError:
        raise ValidationError({"phone": _("This phone number has an account already: log in with it, or ask "
                                          "your grid worker to reset its password.")}) from None


def _request_row(*, person: dict, password: str | None, existing_user: User | None, **where) -> JoinRequest:
    phone = person["phone"] or (existing_user.username if existing_user else "")
    return JoinRequest(
        name=person["name"], id_last4_enc=encrypt(person["last4"]), phone_enc=encrypt(phone),
        phone_hash=blind_index("phone", phone) if person["phone"] else "", phone_masked=mask_phone(phone),
        password_hash=make_password(password) if password is not None else "", existing_user=existing_user,
        **where,
    )


def _matches(resident: Resident, person: dict) -> bool:
    if resident.user_id is not None or not _same_name(resident.name, person["name"]):
        return False
    number = decrypt(resident.id_number_enc)
    return bool(number) and hmac.compare_digest(number[-4:].upper(), person["last4"])


def join(*, request, code: str, name: str, id_last4: str, phone: str | None = None, password: str | None = None,
         user: User | None = None, sms_code: str = "") -> Joined:
    """Join with a code: the person's name and the last 4 characters of their ID number are matched to a member
    of the code's household (or its party member). A match makes the account (login name: the phone), links it
    and returns "active"; anything else makes a request for the grid worker and returns "pending", the same
    answer whatever did not match. ``user``: an account that exists already (someone who moved out of another
    household), joining without phone and password.

    Raises ``JoinRefused`` when the throttle refuses the try (per address, per code; counted before anything
    else is looked at) and ValidationError for a code that does not work, a weak password, a phone that has an
    account: then nothing is written."""
    existing = user if user is not None and user.is_authenticated else None
    if existing is not None and Resident.objects.filter(user=existing).exists():
        raise ValidationError(_("Your account is linked to a household already."))
    person = _clean_person(name=name, id_last4=id_last4, phone=None if existing else phone,
                           password=None if existing else password)
    if existing is None and password is None:
        raise ValidationError({"password": _("Choose a password.")})
    normalized = normalize_code(code)
    lock = throttle.join_reserve(request, code_hash(normalized))
    if lock is not None:
        raise JoinRefused(lock)
    if existing is None:
        _check_phone(person["phone"], sms_code)
    return _join(code=normalized, person=person, password=None if existing else password, existing=existing,
                 sms_code=sms_code)


@transaction.atomic
def _join(*, code: str, person: dict, password: str | None, existing: User | None, sms_code: str) -> Joined:
    row = code_for(code, lock=True)
    candidates = None
    if row is not None and row.kind == JoinCode.Kind.HOUSEHOLD:
        candidates = list(Resident.objects.filter(household_id=row.household_id, user__isnull=True)
                          .select_related("household__grid", "household__micro_grid"))
    problem = code_problem(row, candidates)
    if problem:
        raise ValidationError({"code": problem})
    if existing is None:
        _phone_free(person["phone"])  # under the code's lock: two joins racing with one phone see each other
    if row.kind == JoinCode.Kind.PARTY_MEMBER:
        member = row.party_member
        candidates = [member.resident]
        where = {"party_member": member, "household_id": member.resident.household_id, "org_path": member.org_path}
    else:
        where = {"household": row.household, "org_path": row.org_path}
    match = next((r for r in candidates if _matches(r, person)), None)
    if match is None:
        if row.requests.filter(status=JoinRequest.Status.PENDING).count() >= settings.JOIN_MAX_PENDING_PER_CODE:
            raise ValidationError({"code": _("Several requests with this code are waiting for the grid worker "
                                             "already. Ask your grid worker.")})
        join_request = _request_row(person=person, password=password, existing_user=existing, code=row, **where)
        try:
            with transaction.atomic():
                join_request.save()
        except IntegrityError:  # a request with this phone was made at the same moment
            raise ValidationError({"phone": _("A request to join with this phone number is waiting for the grid "
                                              "worker already.")}) from None
        audit.record(actor=existing, action="join.request", obj=join_request,
                     changes={"name": person["name"], "with_code": True})
        return Joined("pending", join_request)
    account = existing or _new_account(phone=person["phone"], name=person["name"], password_hash=make_password(password))
    _link(user=account, resident=match, by=account)
    join_request = _request_row(person=person, password=None, existing_user=existing, code=row,
                                status=JoinRequest.Status.ACTIVE, resident=match, user=account,
                                decided_at=timezone.now(), **where)
    join_request.save()
    JoinCode.objects.filter(pk=row.pk).update(uses=row.uses + 1)
    audit.record(actor=account, action="join.active", obj=join_request, org_path=match.org_path,
                 changes={"name": person["name"], "resident": match.pk, "user": account.username})
    return Joined("active", join_request, account)


def join_ask(*, request, community: OrgNode, compound: Compound | None, building: Building | None, address: str,
             name: str, id_last4: str, phone: str | None = None, password: str | None = None,
             user: User | None = None, sms_code: str = "") -> JoinRequest:
    """Ask to join without a code: the request waits for the grid worker of the building (or the community's
    staff, for a place without buildings). Always the same answer; nothing of the registry is looked at."""
    existing = user if user is not None and user.is_authenticated else None
    if existing is not None and Resident.objects.filter(user=existing).exists():
        raise ValidationError(_("Your account is linked to a household already."))
    person = _clean_person(name=name, id_last4=id_last4, phone=None if existing else phone,
                           password=None if existing else password)
    if existing is None and password is None:
        raise ValidationError({"password": _("Choose a password.")})
    address = " ".join((address or "").split())
    if not address or len(address) > 200:
        raise ValidationError({"address": _("Enter your household's address (building, entrance, room).")})
    if community.kind != NodeKind.COMMUNITY:
        raise ValidationError({"community": _("Choose your community or village.")})
    if compound is not None and compound.community_id != community.pk:
        raise ValidationError({"compound": _("Choose a compound of your community.")})
    if building is not None and (compound is None or building.compound_id != compound.pk):
        raise ValidationError({"building": _("Choose a building of your compound.")})
    lock = throttle.join_reserve(request)
    if lock is not None:
        raise JoinRefused(lock)
    if existing is None:
        _check_phone(person["phone"], sms_code)
    return _ask(person=person, password=password, existing=existing, sms_code=sms_code, community=community,
                compound=compound, building=building, address=address)


@transaction.atomic
def _ask(*, person, password, existing, sms_code, community, compound, building, address) -> JoinRequest:
    if existing is None:
        _phone_free(person["phone"])
    org_path = building.org_path if building is not None else community.path
    join_request = _request_row(person=person, password=password, existing_user=existing, community=community,
                                compound=compound, building=building, address=address, org_path=org_path)
    try:
        with transaction.atomic():
            join_request.save()
    except IntegrityError:
        raise ValidationError({"phone": _("A request to join with this phone number is waiting for the grid worker "
                                          "already.")}) from None
    audit.record(actor=existing, action="join.request", obj=join_request,
                 changes={"name": person["name"], "with_code": False, "address": address})
    return join_request


# --- the grid worker's decision ------------------------------------------------------------------------------------


def _person(by) -> User | None:
    return by if getattr(by, "is_authenticated", False) else None


def _notify(join_request: JoinRequest, text: str) -> None:
    phone = decrypt(join_request.phone_enc)
    if phone:
        transaction.on_commit(lambda: sms.send(phone, text))


@transaction.atomic
def join_request_approve(*, join_request: JoinRequest, resident: Resident, by) -> JoinRequest:
    """Link the person asking to ``resident`` (a member of the registry in the approver's area, without an
    account): their account is made (or, for someone who had one, linked) and may log in."""
    join_request = JoinRequest.objects.select_for_update().get(pk=join_request.pk)
    if not policies.can_decide_join_request(by, join_request):
        raise PermissionDenied(_("You may not decide this request."))
    if join_request.status != JoinRequest.Status.PENDING:
        raise ValidationError(_("This request has been decided already."))
    resident = Resident.objects.select_related("household").get(pk=resident.pk)
    party_ok = (join_request.party_member_id is not None and resident.pk == join_request.party_member.resident_id
                and by.can(policies.Perm.PARTY_EDIT, join_request.org_path))
    if not (party_ok or policies.can_link_resident(by, resident)):
        raise PermissionDenied(_("You may not link an account to this resident."))
    if resident.user_id is not None:
        raise ValidationError(_("This resident has an account already."))
    if join_request.existing_user_id:
        account = join_request.existing_user
        if Resident.objects.filter(user=account).exists():
            raise ValidationError(_("This account is linked to a household already."))
    else:
        account = _new_account(phone=decrypt(join_request.phone_enc), name=join_request.name,
                               password_hash=join_request.password_hash)
    _link(user=account, resident=resident, by=by)
    join_request.status = JoinRequest.Status.APPROVED
    join_request.resident, join_request.user = resident, account
    join_request.decided_at, join_request.decided_by = timezone.now(), _person(by)
    join_request.password_hash = ""
    join_request.save(update_fields=["status", "resident", "user", "decided_at", "decided_by", "password_hash"])
    audit.record(actor=by, action="join.approve", obj=join_request, org_path=resident.org_path,
                 changes={"resident": resident.pk, "household": str(resident.household), "user": account.username})
    _notify(join_request, _("Your request to join Gongzhi was approved: log in with your phone number and "
                            "password."))
    return join_request


@transaction.atomic
def join_request_reject(*, join_request: JoinRequest, reason: str, by) -> JoinRequest:
    join_request = JoinRequest.objects.select_for_update().get(pk=join_request.pk)
    if not policies.can_decide_join_request(by, join_request):
        raise PermissionDenied(_("You may not decide this request."))
    if join_request.status != JoinRequest.Status.PENDING:
        raise ValidationError(_("This request has been decided already."))
    reason = " ".join((reason or "").split())
    if len(reason) < 2:
        raise ValidationError({"reason": _("Say why the request is refused: the person asking is told.")})
    join_request.status = JoinRequest.Status.REJECTED
    join_request.reason = reason[:200]
    join_request.decided_at, join_request.decided_by = timezone.now(), _person(by)
    join_request.password_hash = ""
    join_request.save(update_fields=["status", "reason", "decided_at", "decided_by", "password_hash"])
    audit.record(actor=by, action="join.reject", obj=join_request, reason=join_request.reason,
                 changes={"name": join_request.name})
    _notify(join_request, _("Your request to join Gongzhi was refused: %(reason)s") % {"reason": join_request.reason})
    return join_request


@transaction.atomic
def resident_account_unlink(*, resident: Resident, by, reason: str) -> Resident:
    """A resident moved out: their account stays theirs (they may still log in, and join their new household
    with its code), but no longer belongs to this household; their resident role is withdrawn."""
    resident = Resident.objects.select_for_update().get(pk=resident.pk)
    if not policies.can_link_resident(by, resident):
        raise PermissionDenied(_("You may not change this resident's account."))
    if resident.user_id is None:
        raise ValidationError(_("This resident has no account."))
    reason = " ".join((reason or "").split())
    if len(reason) < 2:
        raise ValidationError({"reason": _("Say why the account is unlinked (e.g. moved out).")})
    account = resident.user
    Resident.objects.filter(pk=resident.pk).update(user=None)
    resident.user = None
    for held in RoleAssignment.objects.filter(user=account, role=Role.RESIDENT, is_active=True):
        role_withdraw(assignment=held, by=SYSTEM, reason=reason[:200])  # kept as history, like a staff role
    audit.record(actor=by, action="join.unlink", obj=resident, reason=reason[:200],
                 changes={"user": account.username})
    from ..backends import forget_user

    transaction.on_commit(lambda: forget_user(account.pk))
    return resident
