"""Role x scope matrix for the staff-account pages and the /users API (issue 12, section 5).

The expected answers are written out in the tables below, from what a county expects (a county administrator
manages everyone; a town's staff the accounts of their town, not those of the county's departments; a
community's staff their grid workers, stewards, party secretaries and residents; nobody else manages accounts),
never computed by the policy under test. Every refused write leaves the database as it was.
"""

import pytest
from django.urls import reverse

from gongzhi.accounts.models import RoleAssignment, User
from gongzhi.core.access import Role
from gongzhi.core.models import AuditEvent

from .factories import make_user

API = "/api/v1/users"
MANAGERS = (Role.COUNTY_ADMIN, Role.SUBDISTRICT_STAFF, Role.COMMUNITY_STAFF)

# Who manages whom, by login name; the fixture's users (factories.build_tree) and two in the other town.
ALL = {"admin", "jiedao", "shequ", "wangge", "louzhang", "shuji", "bumen", "gongjian", "jumin", "wg-b", "sq-b"}
MANAGES = {
    Role.COUNTY_ADMIN: ALL,
    Role.SUBDISTRICT_STAFF: {"jiedao", "shequ", "wangge", "louzhang", "shuji", "jumin"},
    Role.COMMUNITY_STAFF: {"shequ", "wangge", "louzhang", "shuji", "jumin"},
    Role.GRID_WORKER: set(),
    Role.BUILDING_STEWARD: set(),
    Role.PARTY_SECRETARY: set(),
    Role.DEPARTMENT_HANDLER: set(),
    Role.PARTNER_CONTACT: set(),
    Role.RESIDENT: set(),
}


@pytest.fixture
def t(tree):
    make_user("wg-b", Role.GRID_WORKER, tree.grid_b1)
    make_user("sq-b", Role.COMMUNITY_STAFF, tree.comm_b)
    tree.by_name = {u.username: u for u in User.objects.all()}
    assert set(tree.by_name) == ALL
    return tree


def state():
    return (User.objects.count(), RoleAssignment.objects.count(), RoleAssignment.objects.filter(is_active=True).count(),
            User.objects.filter(is_active=True).count(), AuditEvent.objects.count(),
            sorted(User.objects.values_list("password", flat=True)))


@pytest.mark.parametrize("role", list(Role))
def test_pages(t, client, role):
    client.force_login(t.users[role])
    manager = role in MANAGERS
    for name in ("accounts:users", "accounts:user_new", "accounts:roster"):
        assert client.get(reverse(name)).status_code == (200 if manager else 403), name
    if manager:
        # By default the page lists staff; "everyone" adds the residents' own accounts (jumin here).
        listed = client.get(reverse("accounts:users")).content.decode()
        everyone = client.get(reverse("accounts:users"), {"role": "all"}).content.decode()
        for username, user in t.by_name.items():
            assert (f'data-user="{user.pk}"' in everyone) == (username in MANAGES[role]), username
            assert (f'data-user="{user.pk}"' in listed) == (username in MANAGES[role] and username != "jumin"), username
    for username, user in t.by_name.items():
        response = client.get(reverse("accounts:user_detail", args=[user.pk]))
        want = 403 if not manager else (200 if username in MANAGES[role] else 404)
        assert response.status_code == want, username


@pytest.mark.parametrize("role", list(Role))
def test_api_reads(t, client, role):
    client.force_login(t.users[role])
    got = client.get(API, {"limit": 200})
    assert got.status_code == 200
    assert {u["username"] for u in got.json()["items"]} == MANAGES[role]
    for username, user in t.by_name.items():
        assert client.get(f"{API}/{user.pk}").status_code == (200 if username in MANAGES[role] else 404), username
    assert client.get(f"{API}/999999").status_code == 404


# Writes on someone else's account: (endpoint, method, body) -> answers for a managed and an unmanaged target.
WRITES = [
    ("disable", "post", {"reason": "离职"}),
    ("password-reset", "post", None),
    ("roles", "post", {"role": Role.BUILDING_STEWARD, "node_id": "grid_a2"}),
]


@pytest.mark.parametrize("role", list(Role))
@pytest.mark.parametrize("endpoint, method, body", WRITES)
def test_api_writes_on_accounts(t, client, role, endpoint, method, body):
    client.force_login(t.users[role])
    me = t.users[role].username
    for username, user in t.by_name.items():
        if username == me:
            continue
        payload = dict(body or {})
        if "node_id" in payload:
            payload["node_id"] = getattr(t, payload["node_id"]).pk
        before = state()
        response = getattr(client, method)(f"{API}/{user.pk}/{endpoint}", payload, content_type="application/json")
        if username not in MANAGES[role]:
            assert response.status_code == 404, (username, response.content)
            assert state() == before, username
        else:
            assert response.status_code in (200, 201), (username, response.content)


def test_nobody_changes_their_own_account_here(t, client):
    for role in MANAGERS:
        me = t.users[role]
        client.force_login(me)
        before = state()
        assert client.post(f"{API}/{me.pk}/disable", {"reason": "x"}, content_type="application/json").status_code == 403
        assert client.post(f"{API}/{me.pk}/password-reset").status_code == 403
        (mine,) = me.role_assignments.all()
        assert client.delete(f"{API}/{me.pk}/roles/{mine.pk}").status_code == 403
        assert state() == before


# Giving roles: (who, target, role, node, unit) -> the answer. 403: beyond the giver (more rights, a place or a
# unit outside their area); 404: an account they do not manage; 422: a role that is not held there.
ASSIGN = [
    (Role.COMMUNITY_STAFF, "wangge", Role.GRID_WORKER, "grid_a2", None, 201),
    (Role.COMMUNITY_STAFF, "wangge", Role.PARTY_SECRETARY, "comm_a", None, 201),
    (Role.COMMUNITY_STAFF, "wangge", Role.GRID_WORKER, "micro_a1", None, 201),
    (Role.COMMUNITY_STAFF, "wangge", Role.SUBDISTRICT_STAFF, "comm_a", None, 403),  # more rights than held
    (Role.COMMUNITY_STAFF, "wangge", Role.COUNTY_ADMIN, "county", None, 403),  # above their node
    (Role.COMMUNITY_STAFF, "wangge", Role.GRID_WORKER, "grid_b1", None, 403),  # another town's grid
    (Role.COMMUNITY_STAFF, "wangge", Role.DEPARTMENT_HANDLER, "comm_a", "department", 403),  # the county's unit
    (Role.COMMUNITY_STAFF, "wg-b", Role.GRID_WORKER, "grid_a2", None, 404),  # an account outside the subtree
    (Role.COMMUNITY_STAFF, "jiedao", Role.GRID_WORKER, "grid_a2", None, 404),  # their own superior
    (Role.COMMUNITY_STAFF, "wangge", Role.GRID_WORKER, "comm_a", None, 422),  # a grid worker sits at a grid
    (Role.COMMUNITY_STAFF, "wangge", Role.GRID_WORKER, "grid_a1", None, 422),  # held there already
    (Role.SUBDISTRICT_STAFF, "shequ", Role.COMMUNITY_STAFF, "comm_a", None, 422),  # held there already
    (Role.SUBDISTRICT_STAFF, "wangge", Role.SUBDISTRICT_STAFF, "town_a", None, 201),
    (Role.SUBDISTRICT_STAFF, "wangge", Role.COUNTY_ADMIN, "county", None, 403),
    (Role.SUBDISTRICT_STAFF, "wangge", Role.COUNTY_ADMIN, "town_a", None, 422),  # only at the top of a tree
    (Role.SUBDISTRICT_STAFF, "wangge", Role.PARTNER_CONTACT, "town_a", "partner", 403),
    (Role.SUBDISTRICT_STAFF, "bumen", Role.GRID_WORKER, "grid_a1", None, 404),  # the county's department handler
    (Role.COUNTY_ADMIN, "wangge", Role.DEPARTMENT_HANDLER, "comm_a", "department", 201),
    (Role.COUNTY_ADMIN, "wangge", Role.DEPARTMENT_HANDLER, "comm_a", None, 422),  # a unit role needs its unit
    (Role.COUNTY_ADMIN, "wangge", Role.GRID_WORKER, "grid_b1", "partner", 422),  # only unit roles take a unit
    (Role.COUNTY_ADMIN, "wg-b", Role.COUNTY_ADMIN, "county", None, 201),
    (Role.GRID_WORKER, "louzhang", Role.BUILDING_STEWARD, "micro_a1", None, 404),  # manages nobody
    (Role.PARTY_SECRETARY, "wangge", Role.BUILDING_STEWARD, "grid_a1", None, 404),
    (Role.RESIDENT, "jumin", Role.GRID_WORKER, "grid_a1", None, 404),
]


@pytest.mark.parametrize("who, target, role, where, unit, want", ASSIGN)
def test_giving_roles(t, client, who, target, role, where, unit, want):
    client.force_login(t.users[who])
    body = {"role": role, "node_id": getattr(t, where).pk}
    if unit:
        body["unit_id"] = getattr(t, unit).pk
    before = state()
    response = client.post(f"{API}/{t.by_name[target].pk}/roles", body, content_type="application/json")
    assert response.status_code == want, response.content
    if want == 201:
        assert response.json()["role"] == role and response.json()["node_id"] == body["node_id"]
        assert RoleAssignment.objects.filter(user=t.by_name[target], role=role, node_id=body["node_id"],
                                             is_active=True).exists()
    else:
        assert state() == before


def test_a_node_that_does_not_exist_answers_like_one_outside(t, client):
    client.force_login(t.users[Role.COMMUNITY_STAFF])
    target = t.by_name["wangge"].pk
    missing = client.post(f"{API}/{target}/roles", {"role": Role.GRID_WORKER, "node_id": 999999},
                          content_type="application/json")
    outside = client.post(f"{API}/{target}/roles", {"role": Role.GRID_WORKER, "node_id": t.grid_b1.pk},
                          content_type="application/json")
    assert missing.status_code == outside.status_code == 403 and missing.json() == outside.json()


# Making accounts through the API, as each manager: where the first role goes -> the answer.
CREATE = [
    (Role.COMMUNITY_STAFF, Role.GRID_WORKER, "grid_a2", None, 201),
    (Role.COMMUNITY_STAFF, Role.COMMUNITY_STAFF, "comm_b", None, 403),
    (Role.COMMUNITY_STAFF, Role.SUBDISTRICT_STAFF, "town_a", None, 403),
    (Role.SUBDISTRICT_STAFF, Role.COMMUNITY_STAFF, "comm_a", None, 201),
    (Role.SUBDISTRICT_STAFF, Role.GRID_WORKER, "grid_b1", None, 403),
    (Role.COUNTY_ADMIN, Role.PARTNER_CONTACT, "comm_a", "partner", 201),
    (Role.GRID_WORKER, Role.GRID_WORKER, "grid_a1", None, 403),
    (Role.RESIDENT, Role.GRID_WORKER, "grid_a1", None, 403),
]


@pytest.mark.parametrize("who, role, where, unit, want", CREATE)
def test_making_accounts(t, client, who, role, where, unit, want):
    client.force_login(t.users[who])
    body = {"display_name": "新同事", "phone": "13912345678", "role": role, "node_id": getattr(t, where).pk}
    if unit:
        body["unit_id"] = getattr(t, unit).pk
    before = state()
    response = client.post(API, body, content_type="application/json")
    assert response.status_code == want, response.content
    if want == 201:
        data = response.json()
        made = User.objects.get(username="13912345678")
        assert data["id"] == made.pk and made.check_password(data["one_time_password"]) and made.must_change_password
        assert [r["role"] for r in data["roles"]] == [role]
    else:
        assert state() == before


def test_withdraw_through_the_api_keeps_the_role_with_its_reason(t, client):
    client.force_login(t.users[Role.COMMUNITY_STAFF])
    worker = t.by_name["wangge"]
    (assignment,) = worker.role_assignments.all()
    response = client.delete(f"{API}/{worker.pk}/roles/{assignment.pk}?reason=调往九襄镇")
    assert response.status_code == 200 and response.json()["is_active"] is False
    assert response.json()["withdraw_reason"] == "调往九襄镇" and response.json()["withdrawn_at"]
    history = client.get(f"{API}/{worker.pk}/roles").json()
    assert [(r["id"], r["is_active"]) for r in history] == [(assignment.pk, False)]
    assert client.delete(f"{API}/{worker.pk}/roles/{assignment.pk}").status_code == 422  # once only
    other = t.by_name["wg-b"].role_assignments.get()
    assert client.delete(f"{API}/{worker.pk}/roles/{other.pk}").status_code == 404  # not this account's role


def test_disable_and_reset_through_the_api(t, client):
    client.force_login(t.users[Role.COMMUNITY_STAFF])
    worker = t.by_name["wangge"]
    reset = client.post(f"{API}/{worker.pk}/password-reset")
    assert reset.status_code == 200
    worker.refresh_from_db()
    assert worker.check_password(reset.json()["one_time_password"]) and worker.must_change_password
    assert client.post(f"{API}/{worker.pk}/disable", {}, content_type="application/json").status_code == 422
    disabled = client.post(f"{API}/{worker.pk}/disable", {"reason": "离职"}, content_type="application/json")
    assert disabled.status_code == 200
    assert disabled.json()["status"] == "disabled" and disabled.json()["open_work"] == []
    listed = client.get(API, {"status": "disabled"}).json()["items"]
    assert [u["username"] for u in listed] == ["wangge"]
    assert client.post(f"{API}/{worker.pk}/enable").json()["is_active"] is True


def test_bad_list_filters_answer_422_not_500(t, client):
    client.force_login(t.users[Role.COUNTY_ADMIN])
    for query in ({"node_id": "0"}, {"node_id": "x"}, {"node_id": str(2**63)}, {"role": "king"}, {"limit": "999"},
                  {"status": "gone"}):
        assert client.get(API, query).status_code == 422, query
    assert client.get(API, {"node_id": t.grid_a1.pk}).status_code == 200
