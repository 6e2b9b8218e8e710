"""The demo county: sizes follow the scale, same seed same people, valid ID numbers, consistent care tags and
places, party and units, and demo accounts that can log in where the README says."""

import datetime as dt
from collections import Counter, defaultdict

import pytest
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from gongzhi.accounts.models import RoleAssignment, User
from gongzhi.core.access import Role
from gongzhi.accounts.demo import DEMO_PASSWORD, ensure_demo_accounts
from gongzhi.orgs.demo import FULL, DemoError, generate, plan_county, targets
from gongzhi.core.models import AuditEvent
from gongzhi.core.pii import decrypt, id_number_hash, normalize_phone, parse_id_number
from gongzhi.orgs.models import (
    Building,
    CareTag,
    Compound,
    CompoundKind,
    Household,
    NodeKind,
    OrgNode,
    PartyMember,
    PartyOrganization,
    PartyOrgKind,
    Resident,
    Unit,
    UnitKind,
    UnitService,
)

SCALE = 0.02


def _age(birth: dt.date, today: dt.date) -> int:
    return today.year - birth.year - ((today.month, today.day) < (birth.month, birth.day))


@pytest.fixture
def county(db):
    today = timezone.localdate()
    counts = generate(seed=7, scale=SCALE, today=today)
    return counts, today


def _kind_counts():
    return Counter(OrgNode.objects.values_list("kind", flat=True))


def test_counts_follow_the_scale(county):
    counts, _today = county
    want = targets(SCALE)
    assert counts["households"] == Household.objects.count() == want["households"] == 160
    assert counts["residents"] == Resident.objects.count() == want["residents"] == 400
    assert counts["compounds"] == Compound.objects.count() == want["compounds"]
    assert counts["party_members"] == PartyMember.objects.count() == want["party_members"] == 20
    assert counts["buildings"] == Building.objects.count() >= counts["compounds"] - 1
    assert Unit.objects.filter(kind=UnitKind.PARTNER).count() == want["partner_units"]
    kinds = _kind_counts()
    # The tree keeps its shape however small: 2 towns, 6 communities, every grid split into micro-grids.
    assert (kinds["county"], kinds["subdistrict"], kinds["community"]) == (1, 2, 6)
    assert kinds["grid"] == counts["grids"] >= 6
    for grid in OrgNode.objects.filter(kind=NodeKind.GRID):
        assert OrgNode.objects.get_children(grid).filter(kind=NodeKind.MICRO_GRID).exists(), grid
    assert set(Compound.objects.values_list("kind", flat=True)) == set(CompoundKind.values)
    assert OrgNode.objects.filter(kind=NodeKind.COMMUNITY, is_rural=True).exists()
    # One audit row for the whole load, not one per row.
    assert list(AuditEvent.objects.values_list("action", flat=True)) == ["demo.load"]
    assert AuditEvent.objects.get().changes["residents"] == 400


def test_full_size_plan_meets_the_brief():
    plan = plan_county(seed=1, scale=1.0, today=dt.date(2025, 6, 1))
    kinds = Counter(n.kind for n in plan.nodes)
    assert kinds["subdistrict"] == 2 and kinds["community"] == 6 and kinds["grid"] == FULL["grids"] == 40
    assert kinds["micro_grid"] >= 3 * kinds["grid"]
    assert len(plan.compounds) == 90 and len(plan.buildings) == 460
    assert len(plan.households) == 8000 and len(plan.people) == 20000
    compound_kinds = Counter(c.kind for c in plan.compounds)
    assert set(compound_kinds) == set(CompoundKind.values)
    assert compound_kinds.most_common(1)[0][0] == "old" and compound_kinds["old"] > 45
    assert sum(1 for p in plan.people if p.member) == 1000
    units = Counter(u.kind for u in plan.units)
    assert units["partner_unit"] == 70 and units["department"] >= 15
    assert sum(1 for p in plan.people if p.ethnicity == "彝族") > 200
    # A county town with many elderly: over a fifth 60 or older, a few per cent 80 or older.
    ages = [_age(p.birth, dt.date(2025, 6, 1)) for p in plan.people]
    assert 0.2 < sum(a >= 60 for a in ages) / len(ages) < 0.35
    assert 0.02 < sum(a >= 80 for a in ages) / len(ages) < 0.08
    # Half the scale, half the people; the tree keeps its towns and communities.
    half = plan_county(seed=1, scale=0.5, today=dt.date(2025, 6, 1))
    assert (len(half.households), len(half.people)) == (4000, 10000)
    assert Counter(n.kind for n in half.nodes)["community"] == 6


def _snapshot():
    return list(
        Resident.objects.order_by("id").values_list("name", "id_number_hash", "birth_date", "household__address")
    )


def test_same_seed_same_people(db):
    today = timezone.localdate()
    runs = {}
    for label, seed in (("first", 7), ("again", 7), ("other", 8)):
        sid = transaction.savepoint()
        generate(seed=seed, scale=SCALE, today=today)
        runs[label] = _snapshot()
        transaction.savepoint_rollback(sid)
    assert len(runs["first"]) == 400
    assert runs["first"] == runs["again"]
    assert [r[0] for r in runs["first"]] != [r[0] for r in runs["other"]]


def test_generate_refuses_a_database_with_a_tree(tree):
    with pytest.raises(DemoError):
        generate(seed=1, scale=SCALE)
    assert ensure_demo_accounts() == []  # the factory tree is not the demo county


def test_id_numbers_valid_and_consistent_phones_for_adults(county):
    _counts, today = county
    regions = Counter()
    for r in Resident.objects.all():
        number = decrypt(r.id_number_enc)
        info = parse_id_number(number)
        assert (info.birth_date, info.gender) == (r.birth_date, r.gender), r.name
        assert r.id_number_hash == id_number_hash(number)
        assert r.id_number_masked == number[:4] + "*" * 14  # nothing of the birth date or sequence (ADR 0002)
        regions[info.region] += 1
        phone = decrypt(r.phone_enc)
        if _age(r.birth_date, today) >= 18:
            assert normalize_phone(phone) == phone and len(phone) == 11 and phone[0] == "1", r.name
        else:
            assert phone == "" and r.phone_masked == ""
        assert 2 <= len(r.name) <= 5 and r.name_initials.isascii()
    assert regions["511823"] > 0.8 * sum(regions.values())
    assert Resident.objects.values("id_number_hash").distinct().count() == 400


def test_care_tags_match_the_people(county):
    _counts, today = county
    members = defaultdict(list)
    for r in Resident.objects.all():
        members[r.household_id].append(r)
    tags = defaultdict(set)
    for tag in CareTag.objects.select_related("resident"):
        tags[tag.resident_id].add(tag.group)
        assert tag.org_path == tag.resident.org_path
    seen = Counter()
    for household, people in members.items():
        parents = [p for p in people if p.relation in ("child", "child_in_law")]
        parents_away = bool(parents) and all(p.residency == "away" for p in parents)
        for p in people:
            age, mine = _age(p.birth_date, today), tags[p.id]
            seen.update(mine)
            assert ("advanced_age" in mine) == (age >= 80), (p.name, age)
            assert ("elderly_alone" in mine) == (age >= 60 and len(people) == 1), (p.name, age)
            left_behind = age < 16 and p.relation == "grandchild" and parents_away
            assert ("left_behind_child" in mine) == left_behind, (p.name, age)
            if "veteran" in mine:
                assert p.gender == "M" and age >= 22
    assert seen["advanced_age"] and seen["elderly_alone"]
    # The rarer groups stay rare.
    for group in ("subsistence", "disabled", "hardship", "veteran"):
        assert seen[group] < 0.1 * 400


def test_households_heads_grids_and_places(county):
    for h in Household.objects.select_related("grid", "head", "compound", "building", "entrance"):
        heads = list(h.members.filter(relation="head"))
        assert len(heads) == 1 and h.head == heads[0]
        # One grid: the household sits at a micro-grid (or grid) node and copies its path.
        assert h.grid.kind == NodeKind.GRID
        node = h.micro_grid or h.grid
        assert h.org_path == node.path and node.path.startswith(h.grid.path)
        assert set(h.members.values_list("org_path", flat=True)) == {h.org_path}
        assert set(h.members.values_list("grid_id", flat=True)) == {h.grid_id}
        community = OrgNode.objects.get(path=h.org_path[:12])
        town = OrgNode.objects.get_parent(community)
        assert h.address.startswith(town.name + community.name), h.address
        if h.building is not None:
            assert h.building.grid_id == (h.micro_grid_id or h.grid_id) and h.entrance.building_id == h.building_id
            assert h.address.endswith(f"{h.building.name}{h.entrance.name}{h.room}")
    for b in Building.objects.select_related("compound", "grid"):
        grid = OrgNode.objects.get(path=b.grid.path[:16])
        assert grid.kind == NodeKind.GRID and grid in b.compound.grids.all()
        assert b.org_path.startswith(b.compound.org_path)
    for c in Compound.objects.all():
        assert c.lng and 102 < c.lng < 103.5 and 29 < c.lat < 30
        assert c.has_property_manager == bool(c.property_manager)


def test_party_organisations_members_and_units(county):
    communities = OrgNode.objects.filter(kind=NodeKind.COMMUNITY)
    for community in communities:
        assert PartyOrganization.objects.filter(node=community, kind=PartyOrgKind.JOINT_COMMITTEE).count() == 1
    for grid in OrgNode.objects.filter(kind=NodeKind.GRID):
        assert PartyOrganization.objects.filter(node=grid, kind=PartyOrgKind.BRANCH, compound=None).count() == 1
    assert PartyOrganization.objects.filter(kind=PartyOrgKind.BRANCH, compound__isnull=False).exists()
    assert PartyOrganization.objects.filter(kind=PartyOrgKind.GROUP, building__isnull=False).exists()
    unit_names = set(Unit.objects.values_list("name", flat=True))
    for m in PartyMember.objects.select_related("resident__household", "assigned_node", "organization"):
        assert m.resident.is_party_member
        assert m.assigned_node.kind == NodeKind.MICRO_GRID and m.assigned_node_id == m.resident.household.micro_grid_id
        assert m.org_path == m.assigned_node.path
        assert m.assigned_node.path.startswith(m.organization.org_path[:12])  # a branch of their community
        if m.dual_registered:
            assert m.in_service and m.work_unit in unit_names and m.dual_registered_on
    assert Resident.objects.filter(is_party_member=True).count() == PartyMember.objects.count()
    departments = Unit.objects.filter(kind=UnitKind.DEPARTMENT)
    assert departments.count() >= 15 and departments.filter(name="县住建局").exists()
    towns = set(OrgNode.objects.filter(kind=NodeKind.SUBDISTRICT).values_list("pk", flat=True))
    for d in departments:
        assert set(d.services.values_list("node_id", flat=True)) == towns
        assert d.contact_name and d.contact_phone_masked.count("*") == 4
    partner_nodes = UnitService.objects.filter(unit__kind=UnitKind.PARTNER).values_list("node__kind", flat=True)
    assert set(partner_nodes) == {NodeKind.COMMUNITY, NodeKind.GRID}


def test_demo_accounts_roles_places_and_login(county, client):
    accounts = {a.username: a for a in ensure_demo_accounts()}
    assert list(accounts) == ["admin", "jiedao", "shequ", "wangge", "dangyuan", "jumin"]
    roles = {
        ra.user.username: ra
        for ra in RoleAssignment.objects.select_related("user", "node").filter(is_active=True)
    }
    assert roles["admin"].role == Role.COUNTY_ADMIN and roles["admin"].node.kind == NodeKind.COUNTY
    assert roles["jiedao"].role == Role.SUBDISTRICT_STAFF and roles["jiedao"].node.name == "富林镇"
    shequ, wangge = roles["shequ"], roles["wangge"]
    assert shequ.role == Role.COMMUNITY_STAFF and shequ.node.path.startswith(roles["jiedao"].node.path)
    assert wangge.role == Role.GRID_WORKER and wangge.node.kind == NodeKind.GRID
    assert wangge.node.path.startswith(shequ.node.path)
    jumin = Resident.objects.select_related("household").get(user__username="jumin")
    assert jumin.household.org_path.startswith(wangge.node.path)
    assert roles["jumin"].role == Role.RESIDENT and roles["jumin"].node_id == jumin.household.grid_id
    dangyuan = Resident.objects.get(user__username="dangyuan")
    assert PartyMember.objects.filter(resident=dangyuan).exists()
    assert roles["dangyuan"].role == Role.RESIDENT
    assert User.objects.get(username="jumin").display_name == jumin.name
    for username in accounts:
        user = User.objects.get(username=username)
        assert user.display_name and "\u4e00" <= user.display_name[0] <= "\u9fff"
        response = client.post(reverse("accounts:login"), {"username": username, "password": DEMO_PASSWORD})
        assert response.status_code == 302, username
        client.logout()
    # Running it again (every demo start does) changes nothing.
    before = (User.objects.count(), RoleAssignment.objects.count(), AuditEvent.objects.count())
    assert [a.username for a in ensure_demo_accounts()] == list(accounts)
    assert (User.objects.count(), RoleAssignment.objects.count(), AuditEvent.objects.count()) == before


def test_demo_staff_make_the_county_user_page_real(county, client):
    """The county's other staff accounts, made through the account actions: a moved grid worker's withdrawn role
    stays in the history, a departed one is disabled; the county administrator's user page lists them all."""
    from gongzhi.accounts.demo import DEMO_LEFT, DEMO_MOVED, DEMO_STAFF, ensure_demo_staff

    ensure_demo_accounts()
    made = ensure_demo_staff()
    assert set(made) == {p for p, *_r in DEMO_STAFF} | {DEMO_MOVED[0], DEMO_LEFT[0]}
    moved = User.objects.get(username=DEMO_MOVED[0])
    assert [a.is_active for a in moved.role_assignments.order_by("id")] == [False, True]
    left = User.objects.get(username=DEMO_LEFT[0])
    assert not left.is_active and left.disabled_reason
    handler = User.objects.get(username=DEMO_STAFF[4][0]).role_assignments.get()
    assert handler.role == Role.DEPARTMENT_HANDLER and handler.unit is not None
    assert AuditEvent.objects.filter(action="user.create", object_id=str(moved.pk)).exists()
    before = (User.objects.count(), RoleAssignment.objects.count(), AuditEvent.objects.count())
    assert ensure_demo_staff() == []
    assert (User.objects.count(), RoleAssignment.objects.count(), AuditEvent.objects.count()) == before
    client.force_login(User.objects.get(username="admin"))
    page = client.get(reverse("accounts:users"), {"q": "1399001"}).content.decode()
    for phone, name, *_rest in DEMO_STAFF:
        assert name in page and phone in page
    assert "已停用" in page and "楼栋长" in page and "职能部门承办人" in page
