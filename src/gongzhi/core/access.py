"""Who may do what: the roles a user holds at org nodes, and the permissions each app declares for them.

Core owns the roles and the mechanism; every app declares its own permission names (a ``Perm`` class
that extends the one of the app below it) and which roles hold them, in its ``permissions.py``, which
its ``AppConfig.ready`` imports. ``ROLE_PERMS`` is the union of every app's grants. A role's
permissions apply inside the subtree of the node it is held at (see ``accounts.models.User.can``).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from django.db import models
from django.utils.translation import gettext_lazy as _


class Role(models.TextChoices):
    COUNTY_ADMIN = "county_admin", _("County administrator")
    SUBDISTRICT_STAFF = "subdistrict_staff", _("Subdistrict staff")
    COMMUNITY_STAFF = "community_staff", _("Community staff")
    GRID_WORKER = "grid_worker", _("Grid worker")
    BUILDING_STEWARD = "building_steward", _("Building steward")
    PARTY_SECRETARY = "party_secretary", _("Party branch secretary")
    DEPARTMENT_HANDLER = "department_handler", _("Department handler")
    PARTNER_CONTACT = "partner_contact", _("Partner-unit contact")
    RESIDENT = "resident", _("Resident")


class Perm:
    """Core's permission names. Apps extend this class with their own (``orgs.permissions.Perm``, ...)."""

    WORKBENCH = "workbench"  # the staff pages at all
    AUDIT_VIEW = "audit.view"
    USERS_MANAGE = "users.manage"


# Roles held for a unit (a department or partner): they act on what is dispatched to their unit.
UNIT_ROLES = (Role.DEPARTMENT_HANDLER, Role.PARTNER_CONTACT)

ROLE_PERMS: dict[str, frozenset[str]] = {role: frozenset() for role in Role}
_DECLARED: dict[str, str] = {}  # permission name -> the app that declared it


def perm_names(perms: type) -> set[str]:
    """Every permission name a ``Perm`` class holds, its bases' included."""
    names = set()
    for cls in perms.__mro__:
        names |= {v for k, v in vars(cls).items() if k.isupper() and isinstance(v, str)}
    return names


def declare(app: str, perms: type, grants: Mapping[str, Iterable[str]]) -> None:
    """Register ``app``'s permission names (those ``perms`` adds to its bases) and the roles that hold them.

    Idempotent for the same app; a name declared by two apps, or a grant of a name nobody declared, is
    a programming error and fails at start-up rather than silently granting nothing.
    """
    own = {v for k, v in vars(perms).items() if k.isupper() and isinstance(v, str)}
    for name in own:
        if _DECLARED.setdefault(name, app) != app:
            raise ValueError(f"permission {name!r} declared by {_DECLARED[name]} and {app}")
    for role, names in grants.items():
        names = frozenset(names)
        unknown = names - set(_DECLARED)
        if unknown:
            raise ValueError(f"{app} grants undeclared permissions {sorted(unknown)}")
        ROLE_PERMS[Role(role)] = ROLE_PERMS[Role(role)] | names


def declared() -> dict[str, str]:
    """Every declared permission name and the app that declared it."""
    return dict(_DECLARED)


def roles_with(perm: str) -> tuple[str, ...]:
    return tuple(role for role, perms in ROLE_PERMS.items() if perm in perms)


def is_staff_role(role: str) -> bool:
    return Perm.WORKBENCH in ROLE_PERMS.get(role, ())


_STAFF = [r for r in Role if r != Role.RESIDENT]
declare("core", Perm, {
    **{role: {Perm.WORKBENCH} for role in _STAFF},
    Role.COUNTY_ADMIN: {Perm.WORKBENCH, Perm.AUDIT_VIEW, Perm.USERS_MANAGE},
    Role.SUBDISTRICT_STAFF: {Perm.WORKBENCH, Perm.AUDIT_VIEW, Perm.USERS_MANAGE},
    # A community's staff make the accounts of its grid workers, stewards and party secretaries (never a
    # role with more rights than their own: accounts.policies).
    Role.COMMUNITY_STAFF: {Perm.WORKBENCH, Perm.USERS_MANAGE},
})


class _System:
    """The actor of work nobody in particular does: the demo loader, imports run for the system, tasks.

    Actions take their actor explicitly (``by=``); passing ``SYSTEM`` says so on purpose, where a
    forgotten ``by`` used to skip the permission check. It may do anything; the audit trail names it
    "system"."""

    is_authenticated = False
    is_active = True
    pk = None

    def can(self, perm: str, org_path: str | None = None) -> bool:
        return True

    def has_role(self, *roles: str) -> bool:
        return False

    def __str__(self):
        return "system"

    def __repr__(self):
        return "SYSTEM"


SYSTEM = _System()
