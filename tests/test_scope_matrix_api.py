"""Role x scope matrix over every scoped API endpoint.

The expectation is derived from ``ROLE_PERMS`` and the tree fixture alone: a role
sees a record when it holds the endpoint's permission at a node whose path
prefixes the record's path (plus the documented extras: a resident's own
household, compounds reached through a building, units serving a node at or
above the role's node). Everything else answers 404 like a missing id, and
anonymous callers get 401.
"""

import datetime as dt

import pytest
from django.test import Client

from gongzhi.core.access import SYSTEM
from gongzhi.core.access import ROLE_PERMS, Role

from gongzhi.appeals.permissions import Perm
from gongzhi.orgs import actions
from gongzhi.orgs.models import (
    Building,
    Compound,
    Household,
    OrgNode,
    PartyMember,
    PartyOrganization,
    PartyOrgKind,
    Resident,
    Unit,
)

from .factories import make_id

API = "/api/v1"

# endpoint path -> (model, permission it needs)
ENDPOINTS = {
    "/nodes": (OrgNode, Perm.PLACES_VIEW),
    "/compounds": (Compound, Perm.PLACES_VIEW),
    "/buildings": (Building, Perm.PLACES_VIEW),
    "/households": (Household, Perm.REGISTRY_VIEW),
    "/residents": (Resident, Perm.REGISTRY_VIEW),
    "/party-organizations": (PartyOrganization, Perm.PARTY_VIEW),
    "/party-members": (PartyMember, Perm.PARTY_VIEW),
    "/units": (Unit, Perm.UNITS_VIEW),
}


@pytest.fixture
def t(tree):
    """The shared tree plus a party branch and members on both sides of the county."""
    branch_b = actions.party_org_create(name="文明社区第一网格党支部", kind=PartyOrgKind.BRANCH, node=tree.grid_b1, by=SYSTEM)
    pairs = ((tree.resident_a, tree.branch_a, tree.grid_a1), (tree.resident_b, branch_b, tree.grid_b1))
    for resident, org, node in pairs:
        PartyMember.objects.create(resident=resident, organization=org, assigned_node=node, org_path=node.path,
                                   joined_on=dt.date(1970, 7, 1))
    return tree


def role_path(t, role) -> str:
    (assignment,) = t.users[role].role_assignments.all()  # the fixture gives each user one role
    return assignment.org_path


def expected(t, role, endpoint) -> set[int]:
    """Ids the role should see on ``endpoint``, from the permission table and the fixture's paths."""
    model, perm = ENDPOINTS[endpoint]
    path = role_path(t, role)
    holds = perm in ROLE_PERMS[role]

    def inside(p):
        return holds and p.startswith(path)

    if model is OrgNode:
        return {n.pk for n in OrgNode.objects.all() if inside(n.path)}
    if model is Compound:
        return {c.pk for c in Compound.objects.all()
                if inside(c.org_path) or any(inside(b.org_path) for b in c.buildings.all())}
    if model is Unit:
        return {u.pk for u in Unit.objects.all()
                if inside(u.org_path) or any(holds and (s.org_path.startswith(path) or path.startswith(s.org_path))
                                             for s in u.services.all())}
    seen = {o.pk for o in model.objects.all() if inside(o.org_path)}
    if role == Role.RESIDENT and model in (Household, Resident):
        own = Resident.objects.get(user=t.users[role]).household
        seen |= {own.pk} if model is Household else set(own.members.values_list("pk", flat=True))
    return seen


def test_expectations_are_not_trivial(t):
    """The fixture must put something in and something out of scope for every endpoint."""
    for endpoint, (model, _perm) in ENDPOINTS.items():
        everything = set(model.objects.values_list("pk", flat=True))
        assert expected(t, Role.COUNTY_ADMIN, endpoint) == everything, endpoint
        partial = [expected(t, role, endpoint) for role in Role]
        assert any(s and s != everything for s in partial), endpoint
        assert any(not s for s in partial), endpoint


@pytest.mark.parametrize("role", list(Role))
def test_reads(t, client, role):
    client.force_login(t.users[role])
    missing = client.get(f"{API}/residents/999999")
    assert missing.status_code == 404
    not_found = missing.json()
    for endpoint, (model, _perm) in ENDPOINTS.items():
        want = expected(t, role, endpoint)
        r = client.get(API + endpoint, {"limit": 200})
        assert r.status_code == 200, endpoint
        body = r.json()
        assert {x["id"] for x in body["items"]} == want, (role, endpoint)
        assert body["count"] == len(want)
        for pk in model.objects.values_list("pk", flat=True):
            r = client.get(f"{API}{endpoint}/{pk}")
            if pk in want:
                assert r.status_code == 200 and r.json()["id"] == pk, (role, endpoint, pk)
            else:
                assert r.status_code == 404, (role, endpoint, pk)
                assert r.json() == not_found  # out of scope cannot be told from missing
    nodes = expected(t, role, "/nodes")
    for node in OrgNode.objects.all():
        for sub in ("children", "figures"):
            r = client.get(f"{API}/nodes/{node.pk}/{sub}")
            assert r.status_code == (200 if node.pk in nodes else 404), (role, sub, node)
    residents = expected(t, role, "/residents")
    for pk in expected(t, role, "/households"):
        members = client.get(f"{API}/households/{pk}").json()["members"]
        household_members = set(Household.objects.get(pk=pk).members.values_list("pk", flat=True))
        assert {m["id"] for m in members} == residents & household_members


@pytest.mark.parametrize("role", list(Role))
def test_writes(t, client, role):
    """Visible with the permission: allowed; visible without it: 403; not visible: 404."""
    client.force_login(t.users[role])
    path = role_path(t, role)
    perms = ROLE_PERMS[role]
    residents = expected(t, role, "/residents")
    households = expected(t, role, "/households")

    def status(visible, perm, obj_path, ok):
        if not visible:
            return 404
        return ok if perm in perms and obj_path.startswith(path) else 403

    for resident in Resident.objects.all():
        r = client.post(f"{API}/residents/{resident.pk}/reveal", {"field": "phone", "reason": "核对"},
                        content_type="application/json")
        visible = resident.pk in residents
        assert r.status_code == status(visible, Perm.PII_REVEAL, resident.org_path, 200), (role, resident)
        r = client.patch(f"{API}/residents/{resident.pk}", {"ethnicity": "藏族"}, content_type="application/json")
        assert r.status_code == status(visible, Perm.REGISTRY_EDIT, resident.org_path, 200), (role, resident)
    for n, household in enumerate(Household.objects.all()):
        body = {"household_id": household.pk, "name": f"新人{n}", "id_number": make_id()}
        r = client.post(f"{API}/residents", body, content_type="application/json")
        want = status(household.pk in households, Perm.REGISTRY_EDIT, household.org_path, 201)
        assert r.status_code == want, (role, household)


def test_anonymous_gets_401_everywhere(t):
    anonymous = Client()
    for endpoint, (model, _perm) in ENDPOINTS.items():
        assert anonymous.get(API + endpoint).status_code == 401, endpoint
        for pk in model.objects.values_list("pk", flat=True)[:2]:
            assert anonymous.get(f"{API}{endpoint}/{pk}").status_code == 401, endpoint
    for extra in (f"/nodes/{t.county.pk}/children", f"/nodes/{t.county.pk}/figures", "/nodes/tree", "/auth/tokens"):
        assert anonymous.get(API + extra).status_code == 401, extra
    for method, url in (("post", f"/residents/{t.resident_a.pk}/reveal"), ("patch", f"/residents/{t.resident_a.pk}"),
                        ("post", "/residents"), ("post", f"/households/{t.household_a.pk}/move"),
                        ("delete", "/auth/tokens/1")):
        r = getattr(anonymous, method)(API + url, {}, content_type="application/json")
        assert r.status_code == 401, url
