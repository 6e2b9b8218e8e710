"""A small two-subdistrict tree with one user per role, for tests that need in-scope and out-of-scope data."""

from __future__ import annotations

from dataclasses import dataclass, field

from gongzhi.core.access import SYSTEM
from gongzhi.accounts.actions import role_assign
from gongzhi.accounts.models import User
from gongzhi.core.access import Role
from gongzhi.core.pii import id_check_char
from gongzhi.orgs import actions
from gongzhi.orgs.models import Building, Compound, NodeKind, PartyOrgKind, Unit, UnitKind, UnitService

PASSWORD = "test-pass-123"
_seq = [0]


def make_id(birth: str = "19800101", region: str = "511823", male: bool = True) -> str:
    """A valid 18-digit ID number (GB 11643), unique per call."""
    _seq[0] += 1
    order = f"{(_seq[0] * 2) % 1000:03d}"
    order = order[:2] + str((int(order[2]) // 2) * 2 + (1 if male else 0))
    first17 = region + birth + order
    return first17 + id_check_char(first17)


@dataclass
class Tree:
    county: object
    town_a: object
    town_b: object
    comm_a: object
    comm_b: object
    grid_a1: object
    grid_a2: object
    grid_b1: object
    micro_a1: object
    compound_a: object
    compound_b: object
    building_a: object
    building_b: object
    household_a: object
    household_a2: object
    household_b: object
    resident_a: object
    resident_a2: object
    resident_b: object
    partner: object
    department: object
    branch_a: object
    users: dict = field(default_factory=dict)


def make_user(username: str, role: str | None = None, node=None, unit=None, superuser=False) -> User:
    user = User.objects.create_user(username=username, password=PASSWORD, is_superuser=superuser)
    if role:
        role_assign(user=user, role=role, node=node, unit=unit, by=SYSTEM)
    return user


def build_tree() -> Tree:
    county = actions.orgnode_create(parent=None, name="汉源县", kind=NodeKind.COUNTY, by=SYSTEM)
    town_a = actions.orgnode_create(parent=county, name="富林镇", kind=NodeKind.SUBDISTRICT, by=SYSTEM)
    town_b = actions.orgnode_create(parent=county, name="九襄镇", kind=NodeKind.SUBDISTRICT, by=SYSTEM)
    comm_a = actions.orgnode_create(parent=town_a, name="城东社区", kind=NodeKind.COMMUNITY, by=SYSTEM)
    comm_b = actions.orgnode_create(parent=town_b, name="文明社区", kind=NodeKind.COMMUNITY, by=SYSTEM)
    grid_a1 = actions.orgnode_create(parent=comm_a, name="第一网格", kind=NodeKind.GRID, by=SYSTEM)
    grid_a2 = actions.orgnode_create(parent=comm_a, name="第二网格", kind=NodeKind.GRID, by=SYSTEM)
    grid_b1 = actions.orgnode_create(parent=comm_b, name="第一网格", kind=NodeKind.GRID, by=SYSTEM)
    micro_a1 = actions.orgnode_create(parent=grid_a1, name="第一微网格", kind=NodeKind.MICRO_GRID, by=SYSTEM)
    compound_a = Compound.objects.create(community=comm_a, org_path=comm_a.path, name="滨河小区", kind="old")
    compound_b = Compound.objects.create(community=comm_b, org_path=comm_b.path, name="花园小区")
    building_a = Building.objects.create(compound=compound_a, grid=grid_a1, org_path=grid_a1.path, name="1栋")
    building_b = Building.objects.create(compound=compound_b, grid=grid_b1, org_path=grid_b1.path, name="1栋")
    household_a = actions.household_create(node=micro_a1, address="滨河小区1栋1单元101", compound=compound_a, building=building_a, by=SYSTEM)
    household_a2 = actions.household_create(node=grid_a2, address="城东社区二组12号", by=SYSTEM)
    household_b = actions.household_create(node=grid_b1, address="花园小区1栋2单元201", compound=compound_b, building=building_b, by=SYSTEM)
    resident_a = actions.resident_create(
        household=household_a, name="张建国", id_number=make_id("19400315"), phone="13800001111",
        relation="head", care_groups=["elderly_alone", "advanced_age"], by=SYSTEM
    )
    resident_a2 = actions.resident_create(household=household_a2, name="李秀英", id_number=make_id("19900101", male=False),
                                          phone="13900002222", relation="head", by=SYSTEM)
    resident_b = actions.resident_create(household=household_b, name="王小明", id_number=make_id("20150606"),
                                         relation="head", care_groups=["left_behind_child"], by=SYSTEM)
    partner = Unit.objects.create(name="县供电公司", kind=UnitKind.PARTNER, home=county, org_path=county.path)
    UnitService.objects.create(unit=partner, node=comm_a, org_path=comm_a.path)
    department = Unit.objects.create(name="县住建局", kind=UnitKind.DEPARTMENT, home=county, org_path=county.path)
    branch_a = actions.party_org_create(name="城东社区第一网格党支部", kind=PartyOrgKind.BRANCH, node=grid_a1, by=SYSTEM)
    t = Tree(county, town_a, town_b, comm_a, comm_b, grid_a1, grid_a2, grid_b1, micro_a1, compound_a, compound_b,
             building_a, building_b, household_a, household_a2, household_b, resident_a, resident_a2, resident_b,
             partner, department, branch_a)
    resident_user = make_user("jumin", Role.RESIDENT, micro_a1)
    resident_a.user = resident_user
    resident_a.save(update_fields=["user"])
    t.users = {
        Role.COUNTY_ADMIN: make_user("admin", Role.COUNTY_ADMIN, county),
        Role.SUBDISTRICT_STAFF: make_user("jiedao", Role.SUBDISTRICT_STAFF, town_a),
        Role.COMMUNITY_STAFF: make_user("shequ", Role.COMMUNITY_STAFF, comm_a),
        Role.GRID_WORKER: make_user("wangge", Role.GRID_WORKER, grid_a1),
        Role.BUILDING_STEWARD: make_user("louzhang", Role.BUILDING_STEWARD, micro_a1),
        Role.PARTY_SECRETARY: make_user("shuji", Role.PARTY_SECRETARY, grid_a1),
        Role.DEPARTMENT_HANDLER: make_user("bumen", Role.DEPARTMENT_HANDLER, comm_a, unit=department),
        Role.PARTNER_CONTACT: make_user("gongjian", Role.PARTNER_CONTACT, comm_a, unit=partner),
        Role.RESIDENT: resident_user,
    }
    return t
