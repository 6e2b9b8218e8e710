"""Role x scope matrix for the joining pages and endpoints: in scope they work, out of scope they answer 404
like a missing object, without the permission they are refused; nothing is written when refused.

Expectations come from ``ROLE_PERMS`` and where each role is held, never from the pages themselves:
household codes and requests need ``registry.edit`` over the household (or the request's place); a party
member's code ``party.edit`` over the member; a party member's request either."""

import pytest
from django.test import Client, RequestFactory
from django.urls import reverse

from gongzhi.accounts.actions import join as actions
from gongzhi.accounts.models import JoinCode, JoinRequest, User
from gongzhi.core.access import ROLE_PERMS, SYSTEM, Role
from gongzhi.orgs import actions as orgs_actions
from gongzhi.orgs.models import PartyMember, PartyOrgKind, Resident
from gongzhi.orgs.permissions import Perm

from .factories import make_id

pytestmark = pytest.mark.django_db
ROLES = list(Role)


class Scope:
    def __init__(self, tree, role):
        self.user = tree.users[role]
        self.perms = ROLE_PERMS[role]
        (assignment,) = self.user.role_assignments.all()
        self.base = assignment.node.path
        own = Resident.objects.filter(user=self.user).first()
        self.own_household = own.household_id if own else None

    def covers(self, perm, path):
        return perm in self.perms and path.startswith(self.base)

    def sees_household(self, h):
        return self.covers(Perm.REGISTRY_VIEW, h.org_path) or h.pk == self.own_household

    def edits(self, path):
        return self.covers(Perm.REGISTRY_EDIT, path)

    def decides(self, jr):
        return self.edits(jr.org_path) or (jr.party_member_id is not None and self.covers(Perm.PARTY_EDIT, jr.org_path))


@pytest.fixture
def world(tree):
    """A pending request and a code in each household; a party member (with a code and a request) in each
    subdistrict."""
    rf = RequestFactory()
    out = {"codes": [], "requests": [], "party_codes": [], "members": []}
    branch_b = orgs_actions.party_org_create(name="文明社区党支部", kind=PartyOrgKind.BRANCH, node=tree.grid_b1, by=SYSTEM)
    for i, (household, branch, node) in enumerate([(tree.household_a, tree.branch_a, tree.grid_a1),
                                                   (tree.household_b, branch_b, tree.grid_b1)]):
        person = orgs_actions.resident_create(household=household, name=f"党员{i}", id_number=make_id("19700101"),
                                              by=SYSTEM)
        member = PartyMember.objects.create(resident=person, organization=branch, assigned_node=node, org_path=node.path)
        code, raw = actions.join_code_create(by=SYSTEM, party_member=member, days=30)
        joined = actions.join(request=rf.post("/", REMOTE_ADDR=f"198.51.100.{50 + i}"), code=raw, name="别人",
                              id_last4="1234", phone=f"1360000020{i}", password="Join-matrix-2026")
        out["party_codes"].append(code)
        out["members"].append(member)
        out["requests"].append(joined.join_request)
    for i, household in enumerate([tree.household_a, tree.household_a2, tree.household_b]):
        orgs_actions.resident_create(household=household, name=f"成员{i}", id_number=make_id("19800101"), by=SYSTEM)
        code, raw = actions.join_code_create(by=SYSTEM, household=household, days=30)
        joined = actions.join(request=rf.post("/", REMOTE_ADDR=f"198.51.100.{i + 1}"), code=raw, name="某某",
                              id_last4="1234", phone=f"1360000010{i}", password="Join-matrix-2026")
        assert joined.status == "pending"
        out["codes"].append(code)
        out["requests"].append(joined.join_request)
    return out


def client_for(user):
    c = Client()
    c.force_login(user)
    return c


@pytest.mark.parametrize("role", ROLES)
def test_household_code_pages(tree, world, role):
    s = Scope(tree, role)
    c = client_for(s.user)
    for code in world["codes"]:
        h = code.household
        want = 200 if s.edits(h.org_path) else 404
        assert c.get(reverse("join:household", args=[h.pk])).status_code == want, (role, h)
        assert c.get(reverse("join:code_print", args=[code.pk])).status_code == want, (role, h)
        assert c.get(reverse("join:code_qr", args=[code.pk])).status_code == want, (role, h)
        before = JoinCode.objects.count()
        made = c.post(reverse("join:household", args=[h.pk]), {"days": 30})
        assert made.status_code == (302 if want == 200 else 404), (role, h)
        assert JoinCode.objects.count() == before + (1 if want == 200 else 0)
        revoked = c.post(reverse("join:code_revoke", args=[code.pk]))
        assert revoked.status_code == (302 if want == 200 else 404)
        code.refresh_from_db()
        assert (code.revoked_at is not None) == (want == 200)


@pytest.mark.parametrize("role", ROLES)
def test_party_member_code_pages(tree, world, role):
    s = Scope(tree, role)
    c = client_for(s.user)
    for member, code in zip(world["members"], world["party_codes"]):
        want = 200 if s.covers(Perm.PARTY_EDIT, member.org_path) else 404
        assert c.get(reverse("join:party", args=[member.pk])).status_code == want, (role, member)
        assert c.get(reverse("join:code_print", args=[code.pk])).status_code == want, (role, member)
        before = JoinCode.objects.count()
        assert c.post(reverse("join:party", args=[member.pk]), {"days": 7}).status_code == (302 if want == 200 else 404)
        assert JoinCode.objects.count() == before + (1 if want == 200 else 0)


@pytest.mark.parametrize("role", ROLES)
def test_join_request_pages(tree, world, role):
    s = Scope(tree, role)
    c = client_for(s.user)
    may_list = bool({Perm.REGISTRY_EDIT, Perm.PARTY_EDIT} & s.perms)
    listing = c.get(reverse("join:requests"))
    assert listing.status_code == (200 if may_list else 403)
    for jr in world["requests"]:
        want = 200 if s.decides(jr) else 404
        assert c.get(reverse("join:request", args=[jr.pk])).status_code == want, (role, jr.org_path)
        if may_list:
            assert (f'data-request="{jr.pk}"' in listing.content.decode()) == (want == 200)
        # refused decisions write nothing
        r = c.post(reverse("join:reject", args=[jr.pk]), {"reason": "矩阵测试"})
        jr.refresh_from_db()
        assert r.status_code == (302 if want == 200 else 404) and (jr.status == "rejected") == (want == 200)


@pytest.mark.parametrize("role", ROLES)
def test_join_api(tree, world, role):
    s = Scope(tree, role)
    c = client_for(s.user)
    for h in (tree.household_a, tree.household_a2, tree.household_b):
        before = JoinCode.objects.count()
        r = c.post(f"/api/v1/households/{h.pk}/join-codes", {}, content_type="application/json")
        want = 201 if s.edits(h.org_path) else 403 if s.sees_household(h) else 404
        assert r.status_code == want, (role, h, r.content)
        assert JoinCode.objects.count() == before + (1 if want == 201 else 0)
    for member in world["members"]:
        r = c.post(f"/api/v1/party-members/{member.pk}/join-codes", {}, content_type="application/json")
        sees = s.covers(Perm.PARTY_VIEW, member.org_path)
        want = 201 if s.covers(Perm.PARTY_EDIT, member.org_path) else 403 if sees else 404
        assert r.status_code == want, (role, member)
    listed = c.get("/api/v1/join-requests?status=all").json()
    assert {i["id"] for i in listed["items"]} == {jr.pk for jr in world["requests"] if s.decides(jr)}
    for jr in world["requests"]:
        r = c.post(f"/api/v1/join-requests/{jr.pk}/reject", {"reason": "矩阵"}, content_type="application/json")
        assert r.status_code == (200 if s.decides(jr) else 404), (role, jr.org_path)


def test_anonymous_gets_the_login_page_or_401(tree, world):
    c = Client()
    jr, code = world["requests"][0], world["codes"][0]
    for url in (reverse("join:requests"), reverse("join:request", args=[jr.pk]),
                reverse("join:household", args=[code.household_id]), reverse("join:code_print", args=[code.pk]),
                reverse("join:code_qr", args=[code.pk])):
        r = c.get(url)
        assert r.status_code == 302 and "/accounts/login/" in r["Location"], url
    assert c.get("/api/v1/join-requests").status_code == 401
    assert c.post(f"/api/v1/households/{tree.household_a.pk}/join-codes", {},
                  content_type="application/json").status_code == 401


def test_escalation_linking_a_request_to_a_resident_outside_ones_grid(tree, world):
    """The grid worker of grid A1 decides a request of their grid but names a resident of grid A2 (or of the
    other subdistrict): 404 like a missing resident, nothing linked, no account made."""
    worker = tree.users[Role.GRID_WORKER]
    jr = next(r for r in world["requests"] if r.household_id == tree.household_a.pk)
    c = client_for(worker)
    for outsider in (tree.resident_a2, tree.resident_b):
        r = c.post(reverse("join:approve", args=[jr.pk]), {"resident": outsider.pk})
        assert r.status_code == 404
        api = c.post(f"/api/v1/join-requests/{jr.pk}/approve", {"resident_id": outsider.pk},
                     content_type="application/json")
        assert api.status_code == 404
        outsider.refresh_from_db()
        assert outsider.user_id is None
    jr.refresh_from_db()
    assert jr.status == "pending" and not User.objects.filter(username=jr.phone_masked[:3] + "00000100").exists()
    # a party secretary may link a party member's request only to that member
    secretary = tree.users[Role.PARTY_SECRETARY]
    party_jr = next(r for r in world["requests"] if r.party_member_id == world["members"][0].pk)
    c = client_for(secretary)
    other = Resident.objects.filter(household=tree.household_a, user__isnull=True).exclude(
        pk=world["members"][0].resident_id).first()
    assert c.post(reverse("join:approve", args=[party_jr.pk]), {"resident": other.pk}).status_code == 404
    ok = c.post(reverse("join:approve", args=[party_jr.pk]), {"resident": world["members"][0].resident_id})
    assert ok.status_code == 302
    assert Resident.objects.get(pk=world["members"][0].resident_id).user.username == "13600000200"
    assert JoinRequest.objects.get(pk=party_jr.pk).status == "approved"
