"""Role x scope matrix over the appeals API.

Who sees an appeal is derived from ``ROLE_PERMS`` and the fixture alone, following the rule the selectors
document: APPEALS_VIEW over the place, APPEALS_HANDLE over the handler's node, APPEALS_DISPATCH over the
first receiver's node, a unit role for the handling unit, and one's own appeals (filed, for them, followed).
Who may act follows ``policies``. Expected answers: not visible 404 (the same body as a missing id); visible
but the state does not allow it 409; the policy refuses 403; else 200. Each write is rolled back.
"""

import pytest
from django.db import transaction
from django.test import Client

from gongzhi.core.access import ROLE_PERMS, Role

from gongzhi.appeals.permissions import Perm
from gongzhi.appeals import actions, policies
from gongzhi.appeals.actions import ALLOWED_FROM
from gongzhi.appeals.models import Appeal, AppealFollower, Channel

from .appeals_factories import make_categories

API = "/api/v1"
UNIT_ROLES = (Role.DEPARTMENT_HANDLER, Role.PARTNER_CONTACT)


@pytest.fixture
def t(tree):
    """Six appeals in both towns, at every stage, handled by nodes and by units."""
    cats = make_categories()
    resident, staff, admin = (tree.users[r] for r in (Role.RESIDENT, Role.COMMUNITY_STAFF, Role.COUNTY_ADMIN))
    dept, partner = tree.users[Role.DEPARTMENT_HANDLER], tree.users[Role.PARTNER_CONTACT]

    def file(by, reporter, channel=Channel.WINDOW, **kw):
        return actions.appeal_file(by=by, category=cats["garbage"], title="", description="门口垃圾没人清",
                                   channel=channel, reporter=reporter, **kw)

    a_sub = file(resident, tree.resident_a, Channel.ONLINE)
    a_disp = file(staff, tree.resident_a2)
    actions.appeal_dispatch(appeal=a_disp, by=staff, to_node=tree.grid_a1)
    a_unit = file(staff, tree.resident_a2)
    actions.appeal_dispatch(appeal=a_unit, by=staff, to_unit=tree.department)
    actions.appeal_accept(appeal=a_unit, by=dept)
    a_res = file(resident, tree.resident_a, Channel.ONLINE)
    actions.appeal_dispatch(appeal=a_res, by=staff, to_unit=tree.partner)
    actions.appeal_accept(appeal=a_res, by=partner)
    actions.appeal_resolve(appeal=a_res, by=partner, result="已抢修")
    b_ver = file(admin, tree.resident_b, Channel.HOTLINE)
    actions.appeal_dispatch(appeal=b_ver, by=admin, to_node=tree.grid_b1)
    actions.appeal_accept(appeal=b_ver, by=admin)
    actions.appeal_resolve(appeal=b_ver, by=admin, result="已清理")
    actions.appeal_rate(appeal=b_ver, by=admin, resolved=True, satisfaction="satisfied", callback=True)  # to close
    actions.appeal_verify(appeal=b_ver, by=admin)
    b_sub = file(admin, tree.resident_b, Channel.HOTLINE)
    tree.appeals = [a_sub, a_disp, a_unit, a_res, b_ver, b_sub]
    return tree


def role_node(t, role):
    (assignment,) = t.users[role].role_assignments.all()  # the fixture gives each user one role
    return assignment


def sees(t, role, appeal: Appeal) -> bool:
    user, assignment = t.users[role], role_node(t, role)
    perms, path = ROLE_PERMS[role], assignment.org_path
    return any((
        Perm.APPEALS_VIEW in perms and appeal.org_path.startswith(path),
        # Unit roles handle only what is dispatched to their unit, not an area's grids.
        Perm.APPEALS_HANDLE in perms and role not in UNIT_ROLES and bool(appeal.handler_path)
        and appeal.handler_path.startswith(path),
        Perm.APPEALS_DISPATCH in perms and appeal.owner_path.startswith(path),
        role in UNIT_ROLES and appeal.handler_unit_id == assignment.unit_id,
        appeal.filed_by_id == user.pk,
        appeal.reporter_id is not None and appeal.reporter.user_id == user.pk,
        AppealFollower.objects.filter(appeal=appeal, user=user).exists(),
    ))


# transition -> (body, the rule in ALLOWED_FROM, the policy that lets the caller)
TRANSITIONS = {
    "dispatch": ({"to_unit_id": None}, "dispatch", policies.can_dispatch),
    "accept": ({}, "accept", policies.can_handle),
    "return": ({"reason": "不属于本单位"}, "return", policies.can_handle),
    "resolve": ({"result": "已处理完毕"}, "resolve", policies.can_handle),
    "verify": ({}, "verify", policies.can_dispatch),
    "close": ({}, "close", policies.can_dispatch),
    "reopen": ({"reason": "复查未解决"}, "reopen",
               lambda u, a: policies.can_dispatch(u, a) or policies.can_supervise(u, a)),
    "rate": ({"resolved": True, "satisfaction": "satisfied"}, "rate", policies.can_rate),
    "extension": ({"days": 2, "reason": "等待配件"}, "extension_request", policies.can_handle),
    "void": ({"reason": "重复提交"}, "void", lambda u, a: policies.can_dispatch(u, a) or policies.can_handle(u, a)),
    "supervise": ({"note": "请尽快办理"}, "supervise", policies.can_supervise),
}


def test_expectations_are_not_trivial(t):
    seen = {role: {a.pk for a in t.appeals if sees(t, role, a)} for role in Role}
    everything = {a.pk for a in t.appeals}
    assert seen[Role.COUNTY_ADMIN] == everything
    assert any(s and s != everything for s in seen.values())
    assert not seen[Role.BUILDING_STEWARD] - {a.pk for a in t.appeals if a.org_path.startswith(t.micro_a1.path)}
    assert {a.status for a in t.appeals} >= {"submitted", "dispatched", "accepted", "resolved", "verified"}


@pytest.mark.parametrize("role", list(Role))
def test_reads(t, client, role):
    client.force_login(t.users[role])
    not_found = client.get(f"{API}/appeals/999999")
    assert not_found.status_code == 404
    want = {a.pk for a in t.appeals if sees(t, role, a)}
    r = client.get(f"{API}/appeals", {"limit": 200})
    assert r.status_code == 200
    assert {x["id"] for x in r.json()["items"]} == want and r.json()["count"] == len(want)
    for appeal in t.appeals:
        r = client.get(f"{API}/appeals/{appeal.pk}")
        if appeal.pk in want:
            body = r.json()
            assert r.status_code == 200 and body["id"] == appeal.pk
            staff = Perm.WORKBENCH in ROLE_PERMS[role]
            assert all(e["public"] for e in body["events"]) or staff
        else:
            assert r.status_code == 404 and r.json() == not_found.json(), (role, appeal.number)


@pytest.mark.parametrize("role", list(Role))
def test_writes(t, client, role):
    user = t.users[role]
    client.force_login(user)
    for appeal in t.appeals:
        visible = sees(t, role, appeal)
        for name, (body, rule, allowed) in TRANSITIONS.items():
            if name == "dispatch":
                body = {"to_unit_id": t.department.pk}
            if not visible:
                want = 404
            elif appeal.status not in ALLOWED_FROM[rule]:
                want = 409
            elif not allowed(user, appeal):
                want = 403
            else:
                want = 200
            with transaction.atomic():
                r = client.post(f"{API}/appeals/{appeal.pk}/{name}", body, content_type="application/json")
                transaction.set_rollback(True)
            assert r.status_code == want, (role, appeal.status, name, r.content)


@pytest.mark.parametrize("role", list(Role))
def test_filing_for_others_needs_the_permission_over_the_place(t, client, role):
    client.force_login(t.users[role])
    path = role_node(t, role).org_path
    for household in (t.household_a, t.household_a2, t.household_b):
        with transaction.atomic():
            r = client.post(f"{API}/appeals", {"category": "garbage", "description": "楼道堆物",
                                               "household_id": household.pk, "reporter_name": "王五"},
                            content_type="application/json")
            transaction.set_rollback(True)
        if role == Role.RESIDENT:
            # Residents file for themselves: only their own household can be named.
            want = 201 if household == t.household_a else 404
        elif Perm.REGISTRY_VIEW not in ROLE_PERMS[role] or not household.org_path.startswith(path):
            want = 404  # the household is not theirs to see
        elif Perm.APPEALS_FILE in ROLE_PERMS[role]:
            want = 201
        else:
            want = 403
        assert r.status_code == want, (role, household.address, r.content)


def test_anonymous_gets_401_everywhere(t):
    anonymous = Client()
    pk = t.appeals[0].pk
    for url in ("/appeals", f"/appeals/{pk}", "/appeal-categories"):
        assert anonymous.get(API + url).status_code == 401, url
    for url in ["/appeals", *(f"/appeals/{pk}/{name}" for name in TRANSITIONS), f"/appeals/{pk}/merge",
                f"/appeals/{pk}/extension/decide", f"/appeals/{pk}/void/decide"]:
        assert anonymous.post(API + url, {}, content_type="application/json").status_code == 401, url
