"""Role x scope matrix for the staff appeal pages and the settings pages: in scope 200, out of scope 404
(like missing), a role without the permission refused, anonymous sent to log in.

Expectations come from ``ROLE_PERMS``, the node each role is held at and the rules the policies state
(unit roles handle only their unit's appeals; county administrators keep the county-wide settings),
never from the pages themselves.
"""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from gongzhi.core.access import ROLE_PERMS, Role

from gongzhi.appeals.permissions import Perm
from gongzhi.appeals import actions
from gongzhi.appeals.models import Appeal, Channel, RoutingRule, Status

from .appeals_factories import make_categories

UNIT_ROLES = (Role.DEPARTMENT_HANDLER, Role.PARTNER_CONTACT)
ALL_ROLES = list(Role)


class Scope:
    """What one role may see and do with appeals, from its permissions and where it is held."""

    def __init__(self, tree, role):
        self.role = role
        self.user = tree.users[role]
        self.perms = ROLE_PERMS[role]
        (assignment,) = self.user.role_assignments.all()
        self.base = assignment.node.path
        self.unit_id = assignment.unit_id if role in UNIT_ROLES else None

    def holds(self, perm):
        return perm in self.perms

    def covers(self, perm, path):
        return self.holds(perm) and bool(path) and path.startswith(self.base)

    def handles(self, a):
        if a.handler_unit_id:
            return a.handler_unit_id == self.unit_id
        return self.role not in UNIT_ROLES and self.covers(Perm.APPEALS_HANDLE, a.handler_path)

    def sees(self, a):
        own = a.filed_by_id == self.user.pk or (a.reporter_id and a.reporter.user_id == self.user.pk)
        return bool(
            self.covers(Perm.APPEALS_VIEW, a.org_path) or self.covers(Perm.APPEALS_DISPATCH, a.owner_path)
            or self.handles(a) or own or a.followers.filter(user=self.user).exists()
        )

    def queue(self, kind, appeals):
        if kind == "dispatch":
            return {a.pk for a in appeals
                    if a.status == Status.SUBMITTED and self.covers(Perm.APPEALS_DISPATCH, a.owner_path)}
        if kind == "handle":
            return {a.pk for a in appeals if a.status in (Status.DISPATCHED, Status.ACCEPTED) and self.handles(a)}
        return {a.pk for a in appeals if a.status in (Status.RESOLVED, Status.VERIFIED)
                and self.covers(Perm.APPEALS_DISPATCH, a.owner_path)}

    def may_queue(self, kind):
        if kind in ("dispatch", "verify"):
            return self.holds(Perm.APPEALS_DISPATCH)
        if kind == "handle":
            return self.holds(Perm.APPEALS_HANDLE)
        return self.holds(Perm.APPEALS_DISPATCH) or self.holds(Perm.APPEALS_SUPERVISE)


@pytest.fixture
def world(tree):
    """Appeals in both towns, in every kind of hands: submitted, with a grid, a unit, resolved."""
    cats = make_categories()
    u = tree.users
    png = SimpleUploadedFile("p.png", b"\x89PNG\r\n\x1a\n" + b"\x00" * 32, content_type="image/png")
    submitted = actions.appeal_file(by=u[Role.RESIDENT], category=cats["garbage"], title="垃圾", description="垃圾堆积",
                                    channel=Channel.ONLINE, reporter=tree.resident_a, photos=[png])
    with_grid = actions.appeal_file(by=u[Role.COUNTY_ADMIN], category=cats["garbage"], title="路灯",
                                    description="路灯坏了", channel=Channel.HOTLINE, reporter=tree.resident_b)
    actions.appeal_dispatch(appeal=with_grid, by=u[Role.COUNTY_ADMIN], to_node=tree.grid_b1)
    with_unit = actions.appeal_file(by=u[Role.COMMUNITY_STAFF], category=cats["water"], title="停水",
                                    description="二组停水", channel=Channel.WINDOW, reporter=tree.resident_a2,
                                    attributes={"outage": "none"})
    actions.appeal_dispatch(appeal=with_unit, by=u[Role.COMMUNITY_STAFF], to_unit=tree.department)
    found_on_rounds = actions.appeal_file(by=u[Role.GRID_WORKER], category=cats["safety"], title="井盖",
                                          description="井盖松动", channel=Channel.VISIT, node=tree.grid_a1)
    actions.appeal_dispatch(appeal=found_on_rounds, by=u[Role.GRID_WORKER], to_node=tree.grid_a1)
    actions.appeal_accept(appeal=found_on_rounds, by=u[Role.GRID_WORKER])
    actions.appeal_resolve(appeal=found_on_rounds, by=u[Role.GRID_WORKER], result="已固定")
    by_secretary = actions.appeal_file(by=u[Role.PARTY_SECRETARY], category=cats["garbage"], title="楼道堆物",
                                       description="楼道堆满杂物", channel=Channel.MEETING, node=tree.grid_a1)
    rules = [
        RoutingRule.objects.create(node=n, org_path=n.path, category=None, target=RoutingRule.Target.OWN_GRID)
        for n in (tree.county, tree.town_a, tree.town_b, tree.comm_a)
    ]
    return {"appeals": list(Appeal.objects.select_related("reporter").order_by("pk")), "rules": rules,
            "photo": submitted.photos.get()}


@pytest.mark.parametrize("role", ALL_ROLES)
def test_appeal_pages(client, tree, world, role):
    scope = Scope(tree, role)
    client.force_login(scope.user)
    staff = scope.holds(Perm.WORKBENCH)
    seen = {True: 0, False: 0}
    for appeal in world["appeals"]:
        visible = scope.sees(appeal)
        status = client.get(reverse("appeals:detail", args=[appeal.pk])).status_code
        assert status == (403 if not staff else 200 if visible else 404), f"{role} {appeal.title}"
        seen[visible] += 1
    assert client.get(reverse("appeals:detail", args=[987654])).status_code == (404 if staff else 403)
    photo = world["photo"]
    status = client.get(reverse("appeals:photo", args=[photo.appeal_id, photo.pk])).status_code
    assert status == (200 if scope.sees(photo.appeal) else 404), role  # the photo follows its appeal
    assert seen[False] or role == Role.COUNTY_ADMIN, "every role below the county misses something"

    response = client.get(reverse("appeals:list"))
    assert response.status_code == (200 if staff else 403)
    if staff:
        assert {a.pk for a in response.context["rows"]} == {a.pk for a in world["appeals"] if scope.sees(a)}


@pytest.mark.parametrize("role", ALL_ROLES)
def test_queues(client, tree, world, role):
    scope = Scope(tree, role)
    client.force_login(scope.user)
    mine = set()
    for kind in ("dispatch", "handle", "verify"):
        response = client.get(reverse("appeals:queue", args=[kind]))
        assert response.status_code == (200 if scope.may_queue(kind) else 403), f"{role} {kind}"
        if response.status_code == 200:
            assert {a.pk for a in response.context["page"]["rows"]} == scope.queue(kind, world["appeals"]), kind
            mine |= scope.queue(kind, world["appeals"])
    if scope.holds(Perm.WORKBENCH):  # the list's "only mine to act on": the three queues together
        response = client.get(reverse("appeals:list"), {"mine": "1"})
        assert {a.pk for a in response.context["rows"]} == mine, role
    assert client.get(reverse("appeals:queue", args=["requests"])).status_code == (
        200 if scope.may_queue("requests") else 403)
    any_queue = any(scope.may_queue(k) for k in ("dispatch", "handle", "verify", "requests"))
    assert client.get(reverse("appeals:queues")).status_code == (302 if any_queue else 403)


@pytest.mark.parametrize("role", ALL_ROLES)
def test_settings_pages(client, tree, world, role):
    scope = Scope(tree, role)
    client.force_login(scope.user)
    county_wide = role == Role.COUNTY_ADMIN  # policies.can_admin
    for name in ("admin_categories", "admin_policies", "admin_calendar"):
        assert client.get(reverse(f"appeals:{name}")).status_code == (200 if county_wide else 403), f"{role} {name}"
    routing = scope.holds(Perm.APPEALS_ADMIN)
    for name in ("admin_index", "admin_routing"):
        assert client.get(reverse(f"appeals:{name}")).status_code == (200 if routing else 403), f"{role} {name}"
    for rule in world["rules"]:
        status = client.get(reverse("appeals:admin_rule_edit", args=[rule.pk])).status_code
        expected = 403 if not routing else 200 if scope.covers(Perm.APPEALS_ADMIN, rule.org_path) else 404
        assert status == expected, f"{role} rule at {rule.node}"


def test_anonymous_is_sent_to_login(client, tree, world):
    appeal = world["appeals"][0]
    urls = [reverse("appeals:list"), reverse("appeals:queues"), reverse("appeals:detail", args=[appeal.pk]),
            reverse("appeals:photo", args=[appeal.pk, world["photo"].pk]), reverse("appeals:admin_index"),
            reverse("appeals:admin_categories"), reverse("appeals:admin_routing"),
            reverse("appeals:admin_rule_edit", args=[world["rules"][0].pk])]
    urls += [reverse("appeals:queue", args=[k]) for k in ("dispatch", "handle", "verify", "requests")]
    for url in urls:
        response = client.get(url)
        assert response.status_code == 302 and reverse("accounts:login") in response.url, url
    response = client.post(reverse("appeals:act", args=[appeal.pk, "supervise"]), {"supervise-note": "x"})
    assert response.status_code == 302 and reverse("accounts:login") in response.url
