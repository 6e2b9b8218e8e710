"""The demo accounts (one per kind of user, password ``gongzhi-demo``), placed in the demo county."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.contrib.auth.hashers import make_password
from django.db import transaction
from django.db.models import Count
from django.utils import timezone
from django.utils.translation import gettext as _

from gongzhi.accounts.actions import role_assign, role_move, user_create, user_disable
from gongzhi.accounts.models import RoleAssignment, User
from gongzhi.core.access import SYSTEM, Role
from gongzhi.core import audit
from gongzhi.orgs.models import NodeKind, OrgNode, PartyMember, Resident, Unit, UnitKind

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

    def account(username: str, display_name: str, role: str, node: OrgNode) -> User:
        """The account, made through ``user_create`` with its first role when it is missing."""
        nonlocal password
        user = existing.get(username)
        if user is None:
            # One hash for all: the password is published, and each PBKDF2 run takes a noticeable moment.
            password = password or make_password(DEMO_PASSWORD)
            user, _raw = user_create(by=SYSTEM, display_name=display_name, phone="", role=role, node=node,
                                     username=username, hashed_password=password)
            created.append(username)
        return user

    def give(user: User, role: str, node: OrgNode):
        if not RoleAssignment.objects.filter(user=user, role=role, node=node, is_active=True).exists():
            role_assign(user=user, role=role, node=node, by=SYSTEM)

    accounts = []
    for username, role, node in staff:
        user = account(username, data.STAFF_DISPLAY_NAMES[username], role, node)
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
            user = account(username, resident.name, Role.RESIDENT, resident.grid)
            Resident.objects.filter(pk=resident.pk).update(user=user)
        give(user, Role.RESIDENT, resident.grid)
        accounts.append(DemoAccount(username, Role.RESIDENT, resident.grid, user.display_name,
                                    party_member=resident.is_party_member))
    if created:
        audit.record(actor=None, action="demo.accounts", obj=county, changes={"created": created})
    return accounts


# More of the county's staff, so that its user page is real: (phone, name, role, where), where is a path of
# child indexes under the county (0: the first town, its first community, ...) or a unit kind.
DEMO_STAFF = [
    ("13990010001", "赵丽华", Role.COMMUNITY_STAFF, (0, 0)),
    ("13990010002", "孙建华", Role.GRID_WORKER, (0, 0, 0)),
    ("13990010003", "周桂兰", Role.BUILDING_STEWARD, (0, 0, 0)),
    ("13990010004", "吴德明", Role.PARTY_SECRETARY, (0, 0)),
    ("13990010005", "郑海燕", Role.DEPARTMENT_HANDLER, UnitKind.DEPARTMENT),
    ("13990010006", "冯志勇", Role.PARTNER_CONTACT, UnitKind.PARTNER),
    ("13990010007", "何明", Role.SUBDISTRICT_STAFF, (1,)),
]
DEMO_MOVED = ("13990010008", "韩立新")  # a grid worker who moved from one grid to the next: both in the history
DEMO_LEFT = ("13990010009", "曹晓东")  # a grid worker who left: disabled, never deleted


def _descend(county: OrgNode, steps) -> OrgNode | None:
    node = county
    for index in steps:
        children = list(OrgNode.objects.get_children(node).order_by("path")[: index + 1])
        if len(children) <= index:
            return None
        node = children[index]
    return node


@transaction.atomic
def ensure_demo_staff() -> list[str]:
    """The county's other staff accounts (password ``gongzhi-demo``), made through the account actions: a second
    community worker, a grid worker, a building steward, a party secretary, a department handler, a partner
    contact, a town's staff, a grid worker who moved (a withdrawn role in the history) and one who left
    (disabled). Idempotent; returns the login names made now."""
    county = OrgNode.objects.get_root_nodes().filter(kind=NodeKind.COUNTY, code=data.COUNTY["code"]).first()
    if county is None:
        return []
    wanted = [p for p, *_rest in DEMO_STAFF] + [DEMO_MOVED[0], DEMO_LEFT[0]]
    existing = set(User.objects.filter(username__in=wanted).values_list("username", flat=True))
    password = None
    made = []

    def make(phone, name, role, node, unit=None):
        nonlocal password
        password = password or make_password(DEMO_PASSWORD)
        user, _raw = user_create(by=SYSTEM, display_name=name, phone=phone, role=role, node=node, unit=unit,
                                 hashed_password=password)
        made.append(phone)
        return user

    for phone, name, role, where in DEMO_STAFF:
        if phone in existing:
            continue
        if isinstance(where, tuple):
            node, unit = _descend(county, where), None
        else:
            unit = Unit.objects.filter(kind=where, org_path__startswith=county.path).order_by("name").first()
            node = unit.home if unit else None
        if node is not None:
            make(phone, name, role, node, unit)
    town = _descend(county, (0,))
    grids = list(OrgNode.objects.filter(path__startswith=town.path, kind=NodeKind.GRID).order_by("path")[:2]) if town else []
    first, second = (grids + [None, None])[:2]
    if first is not None and second is not None:
        if DEMO_MOVED[0] not in existing:
            user = make(*DEMO_MOVED, Role.GRID_WORKER, first)
            role_move(assignment=user.role_assignments.get(is_active=True), node=second, by=SYSTEM,
                      reason=_("Moved to the neighbouring grid"))
        if DEMO_LEFT[0] not in existing:
            user = make(*DEMO_LEFT, Role.GRID_WORKER, first)
            user_disable(user=user, by=SYSTEM, reason=_("Left the community's service"))
    return made


def load_demo(*, seed: int, scale: float, say) -> None:
    """The demo part: the demo accounts and the county's other staff, in the county (nothing without one)."""
    ensure_demo_accounts()
    ensure_demo_staff()
