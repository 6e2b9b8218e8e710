"""Who may do what to an appeal: small predicates over the user's roles and the appeal's places.

- the *owner* (first receiver, 首接负责) dispatches: APPEALS_DISPATCH over ``owner_path``;
- the *handler* accepts, resolves, returns, asks for time: APPEALS_HANDLE over ``handler_path``
  (from an area role), or a role held for ``handler_unit`` (unit roles handle only their unit's);
- the *dispatcher's chain* verifies, closes, merges, approves extensions: APPEALS_DISPATCH over
  ``owner_path``;
- *supervisors* supervise and approve voiding: APPEALS_SUPERVISE over the place (``org_path``);
- the *reporter* (or a follower) rates and follows;
- a resident *follows* only an appeal offered to them as a possible duplicate of what they were filing
  (``follow_offer``, ``can_follow``), and a follower sees only the appeal's public part (``sees_whole``).
"""

from __future__ import annotations

from django.core import signing

from gongzhi.core.access import ROLE_PERMS, UNIT_ROLES, Role

from gongzhi.appeals.permissions import Perm

from .models import Appeal


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
    """Staff who record a phone callback (回访): the dispatcher's chain."""
    return can_dispatch(user, appeal) or can_supervise(user, appeal)


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
