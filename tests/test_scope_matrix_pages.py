"""Role x scope matrix for every registry page: in scope 200, out of scope 404 (like missing), no permission refused.

Expectations come from ``ROLE_PERMS`` and the tree (where each role is held), never from the pages themselves.
"""

import pytest
from django.urls import reverse

from gongzhi.core.access import ROLE_PERMS, Role

from gongzhi.appeals.permissions import Perm
from gongzhi.orgs.models import Building, Compound, Household, OrgNode, PartyOrganization, Resident, Unit


class Scope:
    """What one role may see, worked out from its permissions and the node it is held at."""

    def __init__(self, tree, role):
        self.role = role
        self.user = tree.users[role]
        self.perms = ROLE_PERMS[role]
        (assignment,) = self.user.role_assignments.all()
        self.base = assignment.node.path
        own = Resident.objects.filter(user=self.user).first()
        self.own_household = own.household_id if own and role == Role.RESIDENT else None

    def holds(self, perm):
        return perm in self.perms

    def covers(self, perm, path):
        return self.holds(perm) and path.startswith(self.base)

    # one rule per kind of object
    def node(self, n):
        return self.covers(Perm.PLACES_VIEW, n.path)

    def compound(self, c):
        return self.covers(Perm.PLACES_VIEW, c.org_path) or any(
            self.covers(Perm.PLACES_VIEW, b.org_path) for b in c.buildings.all()
        )

    def building(self, b):
        return self.covers(Perm.PLACES_VIEW, b.org_path)

    def household(self, h):
        return self.covers(Perm.REGISTRY_VIEW, h.org_path) or h.pk == self.own_household

    def resident(self, r):
        return self.household(r.household)

    def party_org(self, o):
        return self.covers(Perm.PARTY_VIEW, o.org_path)

    def unit(self, u):
        # A unit is known where it belongs and where it serves a node in the scope or above it.
        served = [s.node.path for s in u.services.select_related("node")]
        return self.covers(Perm.UNITS_VIEW, u.org_path) or self.holds(Perm.UNITS_VIEW) and any(
            p.startswith(self.base) or self.base.startswith(p) for p in served
        )


OBJECT_PAGES = [
    ("orgs:node", OrgNode, "node"),
    ("orgs:compound", Compound, "compound"),
    ("orgs:building", Building, "building"),
    ("orgs:household", Household, "household"),
    ("orgs:resident", Resident, "resident"),
    ("orgs:party_org", PartyOrganization, "party_org"),
    ("orgs:unit", Unit, "unit"),
]
LIST_PAGES = [
    ("orgs:tree", Perm.PLACES_VIEW),
    ("orgs:residents", Perm.REGISTRY_VIEW),
    ("orgs:search", Perm.REGISTRY_VIEW),
    ("orgs:mobile", Perm.REGISTRY_VIEW),
    ("orgs:party", Perm.PARTY_VIEW),
    ("orgs:units", Perm.UNITS_VIEW),
    ("core:audit", Perm.AUDIT_VIEW),
]

ALL_ROLES = list(Role)


@pytest.mark.parametrize("role", ALL_ROLES)
def test_object_pages(client, tree, role):
    scope = Scope(tree, role)
    client.force_login(scope.user)
    checked = {True: 0, False: 0}
    for name, model, rule in OBJECT_PAGES:
        for obj in model.objects.all():
            visible = getattr(scope, rule)(obj)
            status = client.get(reverse(name, args=[obj.pk])).status_code
            assert status == (200 if visible else 404), f"{role} {name} {obj}"
            checked[visible] += 1
        assert client.get(reverse(name, args=[987654])).status_code == 404
    assert checked[True], "every role sees something of the tree"
    assert checked[False] or role == Role.COUNTY_ADMIN, "and every role below the county misses something"


@pytest.mark.parametrize("role", ALL_ROLES)
def test_list_pages(client, tree, role):
    scope = Scope(tree, role)
    client.force_login(scope.user)
    for name, perm in LIST_PAGES:
        response = client.get(reverse(name), {"q": "小区1栋"} if name == "orgs:search" else {})
        assert response.status_code == (200 if scope.holds(perm) else 403), f"{role} {name}"
    assert client.get(reverse("orgs:mine")).status_code == 200


@pytest.mark.parametrize("role", ALL_ROLES)
def test_list_pages_show_only_the_scope(client, tree, role):
    scope = Scope(tree, role)
    client.force_login(scope.user)
    if scope.holds(Perm.REGISTRY_VIEW):
        expected = sorted(r.name for r in Resident.objects.all() if scope.resident(r))
        rows = client.get(reverse("orgs:residents")).context["rows"]
        assert sorted(r.name for r in rows) == expected
        found = client.get(reverse("orgs:search"), {"q": "小区1栋"}).context["residents"]
        assert sorted(r.name for r in found) == sorted(
            r.name for r in Resident.objects.filter(household__address__contains="小区") if scope.resident(r)
        )
    if scope.holds(Perm.PARTY_VIEW):
        orgs = client.get(reverse("orgs:party")).context["orgs"]
        assert {o.pk for o in orgs} == {o.pk for o in PartyOrganization.objects.all() if scope.party_org(o)}
    if scope.holds(Perm.UNITS_VIEW):
        units = client.get(reverse("orgs:units")).context["units"]
        assert {u.pk for u in units} == {u.pk for u in Unit.objects.all() if scope.unit(u)}
    if scope.holds(Perm.PLACES_VIEW):
        roots = client.get(reverse("orgs:tree")).context["children"]
        assert [n.path for n in roots] == [scope.base]
    if scope.holds(Perm.AUDIT_VIEW):
        rows = client.get(reverse("core:audit")).context["rows"]
        assert rows and all(e.org_path.startswith(scope.base) for e in rows)


@pytest.mark.parametrize("role", ALL_ROLES)
def test_edit_pages(client, tree, role):
    """Edits: out of scope 404; in scope without the edit permission 403; otherwise the form."""
    scope = Scope(tree, role)
    client.force_login(scope.user)

    def expect(url, visible, may, method="get", data=None):
        status = getattr(client, method)(url, data or {}).status_code
        want = 404 if not visible else (403 if not may else 200)
        assert status == want, f"{role} {url}"

    for r in Resident.objects.all():
        visible, path = scope.resident(r), r.org_path
        expect(reverse("orgs:resident_edit", args=[r.pk]), visible, scope.covers(Perm.REGISTRY_EDIT, path))
        expect(reverse("orgs:resident_move", args=[r.pk]), visible, scope.covers(Perm.REGISTRY_EDIT, path))
        expect(reverse("orgs:resident_reveal", args=[r.pk]), visible, scope.covers(Perm.PII_REVEAL, path),
               method="post", data={"field": "phone", "reason": "核对"})
    for h in Household.objects.all():
        expect(reverse("orgs:household_move", args=[h.pk]), scope.household(h),
               scope.covers(Perm.REGISTRY_EDIT, h.org_path))
    for n in OrgNode.objects.all():
        expect(reverse("orgs:grid_split", args=[n.pk]), scope.node(n),
               n.kind == "grid" and scope.covers(Perm.TREE_EDIT, n.path))


def _every_url(tree):
    urls = [reverse(name) for name, _perm in LIST_PAGES] + [reverse("orgs:mine")]
    for name, model, _rule in OBJECT_PAGES:
        urls.append(reverse(name, args=[model.objects.order_by("pk").first().pk]))
    r, h, g = tree.resident_a.pk, tree.household_a.pk, tree.grid_a1.pk
    urls += [
        reverse("orgs:tree_children", args=[tree.county.pk]), reverse("orgs:resident_edit", args=[r]),
        reverse("orgs:resident_move", args=[r]), reverse("orgs:household_move", args=[h]),
        reverse("orgs:grid_split", args=[g]),
    ]
    return urls


def test_anonymous_is_sent_to_login(client, tree):
    login = reverse("accounts:login")
    for url in _every_url(tree):
        response = client.get(url)
        assert response.status_code == 302 and response.url.startswith(login + "?next="), url
    response = client.post(reverse("orgs:resident_reveal", args=[tree.resident_a.pk]), {"field": "phone", "reason": "看看"})
    assert response.status_code == 302 and response.url.startswith(login)
