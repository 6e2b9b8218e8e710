"""The demo accounts (one per kind of user, password ``gongzhi-demo``), placed in the demo county."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.contrib.auth.hashers import make_password
from django.db import transaction
from django.db.models import Count
from django.utils import timezone
from django.utils.translation import gettext as _

from gongzhi.accounts.actions import role_assign
from gongzhi.accounts.models import RoleAssignment, User
from gongzhi.core.access import Role
from gongzhi.core import audit
from gongzhi.orgs.models import NodeKind, OrgNode, PartyMember, Resident

from gongzhi.orgs.demo import data

DEMO_PASSWORD = "gongzhi-demo"
DEMO_OPEN311_KEY = "gongzhi-demo-open311"  # published, like the password: an Open311 api_key for the whole county


@dataclass
class DemoAccount:
    username: str
    role: str
    node: OrgNode
    display_name: str
    party_member: bool = False

    @property
    def role_label(self) -> str:
        label = str(Role(self.role).label)
        if self.party_member:  # a resident who is a party member: said, or dangyuan reads like jumin
            label = _("%(role)s (party member)") % {"role": label}
        return label


def _child(parent: OrgNode, kind: str, name: str | None = None) -> OrgNode | None:
    qs = OrgNode.objects.get_children(parent).filter(kind=kind)
    if name:
        qs = qs.filter(name=name)
    return qs.order_by("path").first()


def _years_ago(years: int) -> dt.date:
    today = timezone.localdate()
    return today.replace(year=today.year - years, day=min(today.day, 28))


def _pick_resident(grid: OrgNode) -> Resident | None:
    """An adult head of a family household living in a building of the grid, not yet linked to an account."""
    base = Resident.objects.filter(
        org_path__startswith=grid.path, user__isnull=True, relation="head", residency="registered",
        is_party_member=False,
    )
    settled = (
        base.filter(birth_date__gte=_years_ago(65), birth_date__lte=_years_ago(30), household__building__isnull=False)
        .annotate(family=Count("household__members")).filter(family__gte=2)
    )
    return settled.order_by("org_path", "id").first() or base.order_by("org_path", "id").first()


def _pick_member(grid: OrgNode, community: OrgNode) -> Resident | None:
    for node in (grid, community):
        member = (
            PartyMember.objects.filter(org_path__startswith=node.path, resident__user__isnull=True,
                                       resident__residency="registered")
            .select_related("resident").order_by("org_path", "id").first()
        )
        if member is not None:
            return member.resident
    return None


@transaction.atomic
def ensure_demo_accounts() -> list[DemoAccount]:
    """Create the demo accounts that are missing (existing ones keep their password) and return all of them;
    make sure the demo Open311 key exists too.

    Returns an empty list when the database holds no demo county (汉源县 / 富林镇 ...).
    """
    county = OrgNode.objects.get_root_nodes().filter(kind=NodeKind.COUNTY, code=data.COUNTY["code"]).first()
    town = county and _child(county, NodeKind.SUBDISTRICT, data.SUBDISTRICTS[0][0])
    community = town and _child(town, NodeKind.COMMUNITY)
    grid = community and _child(community, NodeKind.GRID)
    if grid is None:
        return []
    staff = [
        ("admin", Role.COUNTY_ADMIN, county),
        ("jiedao", Role.SUBDISTRICT_STAFF, town),
        ("shequ", Role.COMMUNITY_STAFF, community),
        ("wangge", Role.GRID_WORKER, grid),
    ]
    existing = {u.username: u for u in User.objects.filter(username__in=[s[0] for s in staff] + ["dangyuan", "jumin"])}
    password = None
    created = []

    def account(username: str, display_name: str) -> User:
        nonlocal password
        user = existing.get(username)
        if user is None:
            # One hash for all: the password is published, and each PBKDF2 run takes a noticeable moment.
            password = password or make_password(DEMO_PASSWORD)
            user = User.objects.create(username=username, display_name=display_name, password=password)
            created.append(username)
        return user

    def give(user: User, role: str, node: OrgNode):
        if not RoleAssignment.objects.filter(user=user, role=role, node=node, is_active=True).exists():
            role_assign(user=user, role=role, node=node)

    accounts = []
    for username, role, node in staff:
        user = account(username, data.STAFF_DISPLAY_NAMES[username])
        give(user, role, node)
        accounts.append(DemoAccount(username, role, node, user.display_name))
    pickers = {"dangyuan": lambda: _pick_member(grid, community), "jumin": lambda: _pick_resident(grid)}
    for username, pick in pickers.items():
        user = existing.get(username)
        resident = Resident.objects.filter(user=user).select_related("grid").first() if user else None
        if resident is None:
            resident = pick()
            if resident is None:
                continue
            user = account(username, resident.name)
            Resident.objects.filter(pk=resident.pk).update(user=user)
        give(user, Role.RESIDENT, resident.grid)
        accounts.append(DemoAccount(username, Role.RESIDENT, resident.grid, user.display_name,
                                    party_member=resident.is_party_member))
    if created:
        audit.record(actor=None, action="demo.accounts", obj=county, changes={"created": created})
    return accounts


def load_demo(*, seed: int, scale: float, say) -> None:
    """The demo part: the demo accounts, in the county (nothing without one)."""
    ensure_demo_accounts()
