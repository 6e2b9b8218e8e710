"""Registry API: list shapes and filters, masking, reveal, audited and scoped writes, paging, query counts."""

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from gongzhi.core.access import SYSTEM
from gongzhi.core.access import Role
from gongzhi.core.models import AuditEvent
from gongzhi.core.pii import encrypt, mask_phone
from gongzhi.orgs import actions
from gongzhi.orgs.models import PartyMember, Relocation, Resident

from .factories import make_id

API = "/api/v1"


@pytest.fixture
def reg(tree):
    """The shared tree plus a party member and a unit contact phone, so every endpoint has data."""
    tree.member_a = PartyMember.objects.create(
        resident=tree.resident_a2, organization=tree.branch_a, assigned_node=tree.grid_a1, org_path=tree.grid_a1.path,
        work_unit="县教育局", in_service=True, dual_registered=True, dual_registered_on=dt.date(2023, 3, 1),
    )
    tree.partner.contact_name = "赵经理"
    tree.partner.contact_phone_enc = encrypt("13700003333")
    tree.partner.contact_phone_masked = mask_phone("13700003333")
    tree.partner.save()
    return tree


def as_user(client, tree, role):
    client.force_login(tree.users[role])
    return client


def get(client, path, **params):
    r = client.get(API + path, params)
    assert r.status_code == 200, r.content
    return r.json()


def send(client, method, path, body):
    return getattr(client, method)(API + path, body, content_type="application/json")


def ids(body):
    return sorted(x["id"] for x in body["items"])


# --- org nodes -----------------------------------------------------------------------------------


def test_nodes_list_filters_and_parent(reg, client):
    t = reg
    admin = as_user(client, t, Role.COUNTY_ADMIN)
    body = get(admin, "/nodes")
    assert set(body) == {"items", "count", "count_capped"}
    assert body["count"] == 9
    by_id = {n["id"]: n for n in body["items"]}
    assert by_id[t.county.pk]["parent_id"] is None
    assert by_id[t.grid_a1.pk]["parent_id"] == t.comm_a.pk
    assert by_id[t.micro_a1.pk]["parent_id"] == t.grid_a1.pk and by_id[t.micro_a1.pk]["kind"] == "micro_grid"
    assert ids(get(admin, "/nodes", kind="grid")) == sorted([t.grid_a1.pk, t.grid_a2.pk, t.grid_b1.pk])
    assert ids(get(admin, "/nodes", parent=t.comm_a.pk)) == sorted([t.grid_a1.pk, t.grid_a2.pk])
    assert ids(get(admin, "/nodes", parent=t.county.pk, kind="subdistrict")) == sorted([t.town_a.pk, t.town_b.pk])


def test_nodes_parent_filter_out_of_scope_looks_like_missing(reg, client):
    t = reg
    worker = as_user(client, t, Role.GRID_WORKER)
    assert ids(get(worker, "/nodes")) == sorted([t.grid_a1.pk, t.micro_a1.pk])
    empty = {"items": [], "count": 0, "count_capped": False}
    assert get(worker, "/nodes", parent=t.comm_b.pk) == get(worker, "/nodes", parent=999999) == empty
    # The same for the lists filtered by the node a record lies under.
    for path in ("/households", "/residents", "/party-members", "/party-organizations"):
        assert get(worker, path, node=t.comm_b.pk) == get(worker, path, node=999999) == empty, path


def test_node_tree_nested_to_depth(reg, client):
    t = reg
    staff = as_user(client, t, Role.SUBDISTRICT_STAFF)
    tree = get(staff, "/nodes/tree", depth=1)
    assert tree == [{"id": t.town_a.pk, "name": "富林镇", "kind": "subdistrict", "children": [
        {"id": t.comm_a.pk, "name": "城东社区", "kind": "community", "children": []}]}]
    deep = get(staff, "/nodes/tree", depth=3)
    grids = deep[0]["children"][0]["children"]
    assert [g["name"] for g in grids] == ["第一网格", "第二网格"]
    assert [m["id"] for m in grids[0]["children"]] == [t.micro_a1.pk]
    assert get(staff, "/nodes/tree", depth=0)[0]["children"] == []
    assert client.get(API + "/nodes/tree", {"depth": 9}).status_code == 422
    assert get(as_user(client, t, Role.RESIDENT), "/nodes/tree") == []


def test_node_detail_children_figures(reg, client):
    t = reg
    staff = as_user(client, t, Role.COMMUNITY_STAFF)
    node = get(staff, f"/nodes/{t.grid_a1.pk}")
    assert node["name"] == "第一网格" and node["parent_id"] == t.comm_a.pk and node["kind"] == "grid"
    assert ids(get(staff, f"/nodes/{t.comm_a.pk}/children")) == sorted([t.grid_a1.pk, t.grid_a2.pk])
    figures = get(staff, f"/nodes/{t.comm_a.pk}/figures")
    assert figures["grids"] == 2 and figures["micro_grids"] == 1 and figures["compounds"] == 1
    assert figures["households"] == 2 and figures["residents"] == 2 and figures["party_members"] == 1
    assert figures["care_groups"] == {"elderly_alone": 1, "advanced_age": 1}
    grid_figures = get(staff, f"/nodes/{t.grid_a1.pk}/figures")
    assert grid_figures["compounds"] is None and grid_figures["residents"] == 1


# --- places, party, units -----------------------------------------------------------------------------


def test_compounds_and_buildings(reg, client):
    t = reg
    admin = as_user(client, t, Role.COUNTY_ADMIN)
    body = get(admin, "/compounds")
    assert body["count"] == 2
    old = get(admin, "/compounds", kind="old")
    assert [c["name"] for c in old["items"]] == ["滨河小区"]
    assert old["items"][0]["community_id"] == t.comm_a.pk
    assert ids(get(admin, "/compounds", community=t.comm_b.pk)) == [t.compound_b.pk]
    assert get(admin, f"/compounds/{t.compound_a.pk}")["name"] == "滨河小区"
    assert ids(get(admin, "/buildings", compound=t.compound_a.pk)) == [t.building_a.pk]
    assert ids(get(admin, "/buildings", grid=t.grid_b1.pk)) == [t.building_b.pk]
    building = get(admin, f"/buildings/{t.building_b.pk}")
    assert building["compound_id"] == t.compound_b.pk and building["grid_id"] == t.grid_b1.pk


def test_party_orgs_and_members(reg, client):
    t = reg
    secretary = as_user(client, t, Role.PARTY_SECRETARY)
    orgs = get(secretary, "/party-organizations")
    assert ids(orgs) == [t.branch_a.pk]
    assert orgs["items"][0]["kind"] == "party_branch" and orgs["items"][0]["node_id"] == t.grid_a1.pk
    assert get(secretary, "/party-organizations", kind="party_committee")["count"] == 0
    members = get(secretary, "/party-members")
    assert members["items"][0]["name"] == "李秀英" and members["items"][0]["dual_registered"] is True
    assert get(secretary, "/party-members", dual_registered="false")["count"] == 0
    assert get(secretary, "/party-members", organization=t.branch_a.pk)["count"] == 1
    assert get(secretary, f"/party-members/{t.member_a.pk}")["work_unit"] == "县教育局"


def test_units_with_served_nodes(reg, client):
    t = reg
    admin = as_user(client, t, Role.COUNTY_ADMIN)
    body = get(admin, "/units")
    assert {u["name"] for u in body["items"]} == {"县供电公司", "县住建局"}
    partner = get(admin, f"/units/{t.partner.pk}")
    assert partner["served_node_ids"] == [t.comm_a.pk]
    assert partner["contact_phone"] == "137****3333"
    assert [u["name"] for u in get(admin, "/units", kind="department")["items"]] == ["县住建局"]
    # A grid worker knows the partner unit serving the community above the grid.
    worker = as_user(client, t, Role.GRID_WORKER)
    assert [u["name"] for u in get(worker, "/units")["items"]] == ["县供电公司"]


# --- households and residents ----------------------------------------------------------------------------


def test_households_and_detail_with_members(reg, client):
    t = reg
    admin = as_user(client, t, Role.COUNTY_ADMIN)
    assert get(admin, "/households")["count"] == 3
    assert ids(get(admin, "/households", node=t.comm_a.pk)) == sorted([t.household_a.pk, t.household_a2.pk])
    assert ids(get(admin, "/households", building=t.building_b.pk)) == [t.household_b.pk]
    assert ids(get(admin, "/households", compound=t.compound_a.pk)) == [t.household_a.pk]
    detail = get(admin, f"/households/{t.household_a.pk}")
    assert detail["head_id"] == t.resident_a.pk and detail["grid_id"] == t.grid_a1.pk
    assert detail["micro_grid_id"] == t.micro_a1.pk
    assert [m["name"] for m in detail["members"]] == ["张建国"]
    # A resident account sees its own household and no other.
    mine = as_user(client, t, Role.RESIDENT)
    assert ids(get(mine, "/households")) == [t.household_a.pk]
    assert client.get(f"{API}/households/{t.household_b.pk}").status_code == 404


def test_resident_fields(reg, client):
    t = reg
    admin = as_user(client, t, Role.COUNTY_ADMIN)
    r = get(admin, f"/residents/{t.resident_a.pk}")
    assert set(r) == {
        "id", "name", "gender", "birth_date", "age", "grid_id", "micro_grid_id", "household_id", "id_number", "phone",
        "relation", "residency", "ethnicity", "is_party_member", "care_groups",
    }
    assert r["name"] == "张建国" and r["gender"] == "M" and r["birth_date"] == "1940-03-15"
    assert r["age"] == t.resident_a.age and r["age"] >= 80
    assert r["grid_id"] == t.grid_a1.pk and r["micro_grid_id"] == t.micro_a1.pk
    assert r["household_id"] == t.household_a.pk
    assert r["id_number"] == t.resident_a.id_number_masked and "*" in r["id_number"]
    assert r["phone"] == "138****1111"
    assert r["care_groups"] == ["advanced_age", "elderly_alone"]
    assert r["relation"] == "head" and r["residency"] == "registered"


def test_resident_filters(reg, client):
    t = reg
    admin = as_user(client, t, Role.COUNTY_ADMIN)

    def names(**params):
        return sorted(x["name"] for x in get(admin, "/residents", **params)["items"])

    assert names() == ["张建国", "李秀英", "王小明"]
    assert names(care_group="left_behind_child") == ["王小明"]
    assert names(gender="F") == ["李秀英"]
    assert names(age_min=80) == ["张建国"]
    assert names(age_max=17) == ["王小明"]
    assert names(age_min=18, age_max=79) == ["李秀英"]
    assert names(node=t.town_a.pk) == ["张建国", "李秀英"]
    assert names(household=t.household_b.pk) == ["王小明"]
    assert names(q="zjg") == ["张建国"]
    assert names(q=t.resident_a2.reveal_id_number()) == ["李秀英"]
    assert names(q="13900002222") == ["李秀英"]
    assert names(residency="floating") == []
    assert client.get(f"{API}/residents", {"gender": "X"}).status_code == 422


def test_no_full_id_number_or_phone_anywhere(reg, client):
    t = reg
    secrets = [r.reveal_id_number() for r in Resident.objects.all()]
    secrets += [r.reveal_phone() for r in Resident.objects.exclude(phone_enc="")]
    secrets += ["13700003333"]
    admin = as_user(client, t, Role.COUNTY_ADMIN)
    paths = [
        "/nodes", "/compounds", "/buildings", "/households", "/residents", "/party-organizations",
        "/party-members", "/units", f"/households/{t.household_a.pk}", f"/households/{t.household_a2.pk}",
        f"/residents/{t.resident_a.pk}", f"/residents/{t.resident_a2.pk}", f"/residents/{t.resident_b.pk}",
        f"/party-members/{t.member_a.pk}", f"/units/{t.partner.pk}", f"/nodes/{t.county.pk}/figures",
    ]
    for path in paths:
        text = client.get(API + path).content.decode()
        for secret in secrets:
            assert secret not in text, path


def test_paging_limits(reg, client):
    t = reg
    values = [actions.resident_values(name=f"居民{i}", id_number=make_id("19700101")) for i in range(30)]
    Resident.objects.bulk_create([
        Resident(household=t.household_b, org_path=t.household_b.org_path, grid=t.grid_b1, **v) for v in values
    ])
    admin = as_user(client, t, Role.COUNTY_ADMIN)
    first = get(admin, "/residents")
    assert first["count"] == 33 and len(first["items"]) == 25
    rest = get(admin, "/residents", offset=25)
    assert len(rest["items"]) == 8
    assert not set(ids(first)) & set(ids(rest))
    assert len(get(admin, "/residents", limit=200)["items"]) == 33
    assert len(get(admin, "/residents", limit=5, offset=30)["items"]) == 3
    assert client.get(f"{API}/residents", {"limit": 201}).status_code == 422
    assert client.get(f"{API}/residents", {"limit": 0}).status_code == 422
    assert client.get(f"{API}/residents", {"offset": -1}).status_code == 422


# Every list answers in a fixed number of queries however long the page: the user with their role
# assignments (the session comes from the shared cache; the user too, until a node or role changes), the
# count, the page, and one prefetch where the schema lists related ids.
LIST_QUERIES = {
    "/residents": 4, "/households": 3, "/compounds": 4, "/buildings": 3, "/units": 4, "/nodes": 3,
    "/party-organizations": 3, "/party-members": 3,
}


@pytest.mark.parametrize("path", sorted(LIST_QUERIES))
def test_list_query_count_is_constant(reg, client, django_assert_num_queries, path):
    t = reg
    admin = as_user(client, t, Role.COUNTY_ADMIN)
    with django_assert_num_queries(LIST_QUERIES[path]):
        small = client.get(API + path)
    # Grow every kind of row, then the same page costs the same.
    for i in range(4):
        grid = actions.orgnode_create(parent=t.comm_b, name=f"新网格{i}", kind="grid", by=SYSTEM)
        household = actions.household_create(node=grid, address=f"新地址{i}号", by=SYSTEM)
        resident = actions.resident_create(household=household, name=f"新居民{i}", id_number=make_id(),
                                           phone=f"1360000000{i}", care_groups=["hardship", "veteran"], by=SYSTEM)
        compound = t.compound_b.__class__.objects.create(community=t.comm_b, org_path=t.comm_b.path, name=f"新小区{i}")
        compound.grids.add(grid, t.grid_b1)
        t.building_b.__class__.objects.create(compound=compound, grid=grid, org_path=grid.path, name="1栋")
        org = actions.party_org_create(name=f"新支部{i}", kind="party_branch", node=grid, by=SYSTEM)
        PartyMember.objects.create(resident=resident, organization=org, assigned_node=grid, org_path=grid.path)
        unit = t.partner.__class__.objects.create(name=f"新单位{i}", kind="partner_unit", home=t.county,
                                                  org_path=t.county.path)
        unit.served_nodes.add(grid, t.comm_a)
    with CaptureQueriesContext(connection) as ctx:
        large = client.get(API + path)
    assert large.json()["count"] > small.json()["count"]
    assert len(ctx.captured_queries) == LIST_QUERIES[path]


# --- reveal and writes -------------------------------------------------------------------------------


def test_reveal_is_audited(reg, client):
    t = reg
    worker = as_user(client, t, Role.GRID_WORKER)
    url = f"/residents/{t.resident_a.pk}/reveal"
    r = send(worker, "post", url, {"field": "id_number", "reason": "办理高龄补贴"})
    assert r.status_code == 200 and r.json() == {"value": t.resident_a.reveal_id_number()}
    r = send(worker, "post", url, {"field": "phone", "reason": "回访"})
    assert r.json() == {"value": "13800001111"}
    events = AuditEvent.objects.filter(object_id=str(t.resident_a.pk), action__startswith="pii.reveal")
    assert sorted((e.action, e.reason, e.actor_id) for e in events) == [
        ("pii.reveal.id_number", "办理高龄补贴", t.users[Role.GRID_WORKER].pk),
        ("pii.reveal.phone", "回访", t.users[Role.GRID_WORKER].pk),
    ]
    assert send(worker, "post", url, {"field": "phone", "reason": ""}).status_code == 422
    assert send(worker, "post", url, {"field": "name", "reason": "好奇"}).status_code == 422
    assert events.count() == 2


def test_reveal_refused_or_hidden(reg, client):
    t = reg
    steward = as_user(client, t, Role.BUILDING_STEWARD)  # sees the registry, may not reveal
    r = send(steward, "post", f"/residents/{t.resident_a.pk}/reveal", {"field": "phone", "reason": "想知道"})
    assert r.status_code == 403 and r.json()["detail"]
    worker = as_user(client, t, Role.GRID_WORKER)
    out = send(worker, "post", f"/residents/{t.resident_b.pk}/reveal", {"field": "phone", "reason": "想知道"})
    missing = send(worker, "post", "/residents/999999/reveal", {"field": "phone", "reason": "想知道"})
    assert out.status_code == missing.status_code == 404
    assert out.json() == missing.json()
    assert not AuditEvent.objects.filter(action__startswith="pii.reveal").exists()


def test_create_resident(reg, client):
    t = reg
    worker = as_user(client, t, Role.GRID_WORKER)
    id_number = make_id("19550808", male=False)
    r = send(worker, "post", "/residents", {
        "household_id": t.household_a.pk, "name": "刘桂芳", "id_number": id_number, "phone": "13811112222",
        "relation": "spouse", "care_groups": ["disabled"], "ethnicity": "彝族",
    })
    assert r.status_code == 201, r.content
    body = r.json()
    assert body["gender"] == "F" and body["birth_date"] == "1955-08-08" and body["ethnicity"] == "彝族"
    assert body["care_groups"] == ["disabled"] and body["phone"] == "138****2222"
    assert id_number not in r.content.decode() and "13811112222" not in r.content.decode()
    resident = Resident.objects.get(pk=body["id"])
    assert resident.reveal_id_number() == id_number and resident.household == t.household_a
    event = AuditEvent.objects.get(action="resident.create", object_id=str(resident.pk))
    assert event.actor == t.users[Role.GRID_WORKER] and id_number not in str(event.changes)


def test_create_resident_errors(reg, client):
    t = reg
    worker = as_user(client, t, Role.GRID_WORKER)
    body = {"household_id": t.household_b.pk, "name": "外人", "id_number": make_id()}
    assert send(worker, "post", "/residents", body).status_code == 404  # household out of scope
    bad = send(worker, "post", "/residents", {**body, "household_id": t.household_a.pk, "id_number": "123"})
    assert bad.status_code == 422
    assert bad.json()["detail"][0]["msg"]
    dup = send(worker, "post", "/residents", {**body, "household_id": t.household_a.pk,
                                                "id_number": t.resident_a.reveal_id_number()})
    assert dup.status_code == 422
    steward = as_user(client, t, Role.BUILDING_STEWARD)
    assert send(steward, "post", "/residents", {**body, "household_id": t.household_a.pk}).status_code == 403
    assert not Resident.objects.filter(name="外人").exists()


def test_update_resident(reg, client):
    t = reg
    staff = as_user(client, t, Role.COMMUNITY_STAFF)
    url = f"/residents/{t.resident_a2.pk}"
    r = send(staff, "patch", url, {"phone": "13955556666", "residency": "floating", "care_groups": ["hardship"]})
    assert r.status_code == 200, r.content
    body = r.json()
    assert body["phone"] == "139****6666" and body["residency"] == "floating" and body["care_groups"] == ["hardship"]
    assert body["relation"] == "head"  # untouched
    t.resident_a2.refresh_from_db()
    assert t.resident_a2.reveal_phone() == "13955556666"
    event = AuditEvent.objects.get(action="resident.update", object_id=str(t.resident_a2.pk))
    assert event.changes["residency"] == ["registered", "floating"]
    assert "13955556666" not in str(event.changes)
    assert send(staff, "patch", url, {"phone": "12345"}).status_code == 422
    assert send(staff, "patch", url, {"relation": "cousin"}).status_code == 422
    assert send(staff, "patch", f"/residents/{t.resident_b.pk}", {"ethnicity": "回族"}).status_code == 404
    mine = as_user(client, t, Role.RESIDENT)  # sees their own record, may not change it
    assert send(mine, "patch", f"/residents/{t.resident_a.pk}", {"ethnicity": "回族"}).status_code == 403


def test_move_household(reg, client):
    t = reg
    staff = as_user(client, t, Role.COMMUNITY_STAFF)
    url = f"/households/{t.household_a.pk}/move"
    r = send(staff, "post", url, {"to_node_id": t.grid_a2.pk, "reason": "拆迁安置"})
    assert r.status_code == 200 and r.json()["grid_id"] == t.grid_a2.pk
    t.resident_a.refresh_from_db()
    assert t.resident_a.org_path == t.grid_a2.path
    assert Relocation.objects.filter(household=t.household_a, to_node=t.grid_a2).exists()
    assert AuditEvent.objects.filter(action="household.move", object_id=str(t.household_a.pk), reason="拆迁安置").exists()
    assert send(staff, "post", url, {"to_node_id": t.grid_b1.pk}).status_code == 404  # target out of scope
    assert send(staff, "post", url, {"to_node_id": t.comm_a.pk}).status_code == 422  # not a grid
    assert send(staff, "post", f"/households/{t.household_b.pk}/move", {"to_node_id": t.grid_a1.pk}).status_code == 404
    assert AuditEvent.objects.filter(action="household.move").count() == 1
