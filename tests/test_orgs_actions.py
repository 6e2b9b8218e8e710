"""Registry actions: scoping of writes, audit rows, moves and splits keep paths and history."""

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from gongzhi.core.access import SYSTEM
from gongzhi.core.access import Role
from gongzhi.core.models import AuditEvent
from gongzhi.orgs import actions
from gongzhi.orgs.models import CareTag, Household, NodeKind, OrgNode, Relocation, Resident

from .factories import make_id


def test_resident_stored_encrypted_and_masked(tree):
    r = Resident.objects.get(pk=tree.resident_a.pk)
    assert r.id_number_enc.startswith("v1:")
    assert r.id_number_masked == r.reveal_id_number()[:4] + "*" * 14
    assert r.phone_masked == "138****1111"
    assert r.gender == "M" and r.birth_date.year == 1940
    assert r.name_initials == "zjg"


def test_create_writes_audit_with_masked_pii(tree):
    event = AuditEvent.objects.filter(action="resident.create", object_id=str(tree.resident_a.pk)).get()
    assert event.changes["phone"] == "138****1111"
    assert "*" in event.changes["id_number"]
    assert tree.resident_a.reveal_phone() not in str(event.changes)


def test_duplicate_id_refused(tree):
    with pytest.raises(ValidationError, match="该身份证号的居民已登记"):
        actions.resident_create(household=tree.household_a, name="重复", id_number=tree.resident_a.reveal_id_number(), by=SYSTEM)


def test_write_outside_scope_refused(tree):
    worker = tree.users[Role.GRID_WORKER]
    with pytest.raises(PermissionDenied):
        actions.resident_create(household=tree.household_b, name="越权", id_number=make_id(), by=worker)
    assert not Resident.objects.filter(name="越权").exists()


def test_reveal_is_audited_and_limited(tree):
    worker = tree.users[Role.GRID_WORKER]
    value = actions.resident_reveal(resident=tree.resident_a, by=worker, field="phone", reason="上门走访联系")
    assert value == "13800001111"
    event = AuditEvent.objects.get(action="pii.reveal.phone")
    assert event.actor == worker and event.reason == "上门走访联系" and event.object_id == str(tree.resident_a.pk)
    with pytest.raises(PermissionDenied):
        actions.resident_reveal(resident=tree.resident_b, by=worker, field="phone", reason="x" * 5)
    with pytest.raises(PermissionDenied):
        actions.resident_reveal(resident=tree.resident_a, by=tree.users[Role.BUILDING_STEWARD], field="id_number", reason="看看")
    with pytest.raises(ValidationError):
        actions.resident_reveal(resident=tree.resident_a, by=worker, field="phone", reason="")


def test_household_move_keeps_paths_and_history(tree):
    actions.household_move(household=tree.household_a, to_node=tree.grid_a2, reason="换网格", by=SYSTEM)
    r = Resident.objects.get(pk=tree.resident_a.pk)
    assert r.org_path == tree.grid_a2.path and r.grid_id == tree.grid_a2.pk
    assert set(CareTag.objects.filter(resident=r).values_list("org_path", flat=True)) == {tree.grid_a2.path}
    rel = Relocation.objects.get(household=tree.household_a)
    assert rel.from_path == tree.micro_a1.path and rel.to_path == tree.grid_a2.path


def test_resident_move_clears_head(tree):
    actions.resident_move(resident=tree.resident_a, to_household=tree.household_a2, relation="parent", by=SYSTEM)
    assert Household.objects.get(pk=tree.household_a.pk).head_id is None
    assert Resident.objects.get(pk=tree.resident_a.pk).org_path == tree.household_a2.org_path
    assert Relocation.objects.filter(resident=tree.resident_a, kind="resident_household").exists()


def test_grid_split(tree):
    staff = tree.users[Role.COMMUNITY_STAFF]
    new = actions.grid_split(grid=tree.grid_a1, new_name="第三网格", households=[tree.household_a], by=staff)
    assert new.kind == NodeKind.GRID and OrgNode.objects.get_parent(new) == tree.comm_a
    h = Household.objects.get(pk=tree.household_a.pk)
    assert h.org_path == new.path
    assert Resident.objects.get(pk=tree.resident_a.pk).org_path == new.path
    assert Relocation.objects.filter(kind="grid_split", household=h).exists()
    with pytest.raises(ValidationError):
        actions.grid_split(grid=tree.grid_a2, new_name="x", households=[tree.household_b], by=tree.users[Role.COUNTY_ADMIN])


def test_node_move_rewrites_copied_paths(tree):
    admin = tree.users[Role.COUNTY_ADMIN]
    actions.orgnode_move(node=tree.comm_a, new_parent=tree.town_b, by=admin)
    tree.comm_a.refresh_from_db()
    assert tree.comm_a.path.startswith(tree.town_b.path)
    r = Resident.objects.get(pk=tree.resident_a.pk)
    assert r.org_path.startswith(tree.comm_a.path)
    # The subdistrict staff of the old town no longer reaches it; the new town's chain does.
    assert not tree.users[Role.SUBDISTRICT_STAFF].can("registry.view", r.org_path)
    assert tree.users[Role.COMMUNITY_STAFF].__class__.objects.get(username="shequ").can("registry.view", r.org_path)


def test_tree_kind_rules(tree):
    with pytest.raises(ValidationError):
        actions.orgnode_create(parent=tree.grid_a1, name="错误", kind=NodeKind.COMMUNITY, by=SYSTEM)
