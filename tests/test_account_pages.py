"""The account page (name, roles, password, API tokens) reached from the header, the menu without API tokens,
token expiry and revocation on the pages, and the staff pages for login locks and users' tokens, scoped."""

import datetime as dt
import re

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from gongzhi.accounts import actions
from gongzhi.accounts.models import ApiToken
from gongzhi.core.access import SYSTEM, Role
from gongzhi.core.models import AuditEvent

from .factories import PASSWORD, make_user

TOKEN_URL = "/api/v1/auth/token"
A1, A2, A3 = "198.51.100.1", "198.51.100.2", "198.51.100.3"


@pytest.fixture(autouse=True)
def _limits(settings):
    settings.LOGIN_MAX_FAILURES = 5
    settings.LOGIN_ADDRESS_MAX_FAILURES = 12
    settings.LOGIN_LOCKOUT_MINUTES = 15
    settings.API_TOKEN_DEFAULT_DAYS = 90
    settings.API_TOKEN_DAY_CHOICES = [7, 30, 90, 180, 365]
    settings.API_TOKEN_ALLOW_UNLIMITED = False


def text(response) -> str:
    return response.content.decode()


def nav(response) -> str:
    match = re.search(r'<nav id="sidenav".*?</nav>', text(response), re.S)
    return match.group(0) if match else ""


def obtain(username, password=PASSWORD, address="127.0.0.1"):
    return Client().post(TOKEN_URL, {"username": username, "password": password}, content_type="application/json",
                         REMOTE_ADDR=address)


def lock(username, address):
    for _ in range(5):
        obtain(username, "wrong", address=address)
    assert obtain(username, address=address).status_code == 429


# --- the menu and the account page ------------------------------------------------------------------


@pytest.mark.parametrize("role", [Role.RESIDENT, Role.GRID_WORKER, Role.COUNTY_ADMIN])
def test_menu_has_no_api_tokens_and_the_name_links_to_the_account_page(client, tree, role):
    client.force_login(tree.users[role])
    home = client.get("/", follow=True)
    assert home.status_code == 200
    menu = nav(home)
    assert menu, "the page has a menu"
    assert 'data-nav="tokens"' not in menu and f'href="{reverse("accounts:tokens")}"' not in menu
    if role == Role.RESIDENT:
        assert "API" not in menu and "令牌" not in menu
    assert f'href="{reverse("accounts:me")}"' in text(home)  # the user's name in the header


def test_resident_mobile_pages_reach_the_account_page(client, tree):
    client.force_login(tree.users[Role.RESIDENT])
    for url in (reverse("orgs:mine"), reverse("appeals:m_list"), reverse("appeals:m_new")):
        response = client.get(url)
        assert response.status_code == 200, url
        assert f'href="{reverse("accounts:me")}"' in text(response), url


def test_account_page_shows_name_roles_password_and_tokens(client, tree):
    user = tree.users[Role.GRID_WORKER]
    user.display_name = "王网格"
    user.save()
    actions.role_assign(user=user, role=Role.PARTY_SECRETARY, node=tree.grid_a2, by=SYSTEM)
    client.force_login(user)
    response = client.get(reverse("accounts:me"))
    assert response.status_code == 200
    body = text(response)
    assert "王网格" in body and "wangge" in body
    assert "网格员" in body and "第一网格" in body and "党支部书记" in body and "第二网格" in body
    assert reverse("accounts:password_change") in body
    assert 'data-testid="tokens"' in body


def test_resident_account_page(client, tree):
    client.force_login(tree.users[Role.RESIDENT])
    body = text(client.get(reverse("accounts:me")))
    assert "居民" in body and "第一微网格" in body and reverse("accounts:password_change") in body


def test_change_password(client, tree):
    user = tree.users[Role.RESIDENT]
    client.force_login(user)
    url = reverse("accounts:password_change")
    assert client.get(url).status_code == 200
    wrong = client.post(url, {"old_password": "nope", "new_password1": "Lüdao-2024-qiu", "new_password2": "Lüdao-2024-qiu"})
    assert wrong.status_code == 200 and "旧密码" in text(wrong)
    response = client.post(url, {"old_password": PASSWORD, "new_password1": "Lüdao-2024-qiu",
                                 "new_password2": "Lüdao-2024-qiu"})
    assert response.status_code == 302
    assert client.get(reverse("accounts:me")).status_code == 200  # still logged in
    user.refresh_from_db()
    assert user.check_password("Lüdao-2024-qiu")
    assert AuditEvent.objects.filter(action="user.password_change", object_id=str(user.pk)).exists()


def test_old_password_guesses_are_throttled(client, tree):
    client.force_login(tree.users[Role.GRID_WORKER])
    url = reverse("accounts:password_change")
    new = {"new_password1": "Lüdao-2024-qiu", "new_password2": "Lüdao-2024-qiu"}
    for _ in range(4):
        assert client.post(url, {"old_password": "guess", **new}, REMOTE_ADDR=A1).status_code == 200
    locked = client.post(url, {"old_password": "guess", **new}, REMOTE_ADDR=A1)
    assert locked.status_code == 429 and "锁定" in text(locked)
    assert client.post(url, {"old_password": PASSWORD, **new}, REMOTE_ADDR=A1).status_code == 429
    assert not AuditEvent.objects.filter(action="user.password_change").exists()


def test_old_tokens_address_sends_to_the_account_page(client, tree):
    client.force_login(tree.users[Role.GRID_WORKER])
    response = client.get(reverse("accounts:tokens"))
    assert response.status_code in (301, 302) and response.url.startswith(reverse("accounts:me"))


# --- tokens on the account page -----------------------------------------------------------------------


def test_token_created_on_the_page_has_the_chosen_expiry(client, tree):
    user = tree.users[Role.GRID_WORKER]
    client.force_login(user)
    body = text(client.get(reverse("accounts:me")))
    assert 'name="expires_in"' in body
    assert re.search(r'<option value="90" selected>', body)  # the default
    assert 'value="never"' not in body  # not allowed by the settings
    response = client.post(reverse("accounts:me"), {"name": "巡查手机", "expires_in": "30"})
    assert response.status_code == 200
    token = ApiToken.objects.get(user=user)
    assert abs(token.expires_at - (timezone.now() + dt.timedelta(days=30))) < dt.timedelta(minutes=1)
    assert re.search(r'id="new-token">gz_', text(response))
    listed = text(client.get(reverse("accounts:me")))
    assert timezone.localtime(token.expires_at).strftime("%Y-%m-%d") in listed

    refused = client.post(reverse("accounts:me"), {"name": "永久", "expires_in": "never"})
    assert ApiToken.objects.filter(user=user).count() == 1
    assert refused.status_code == 200 and "expires_in" in refused.context["form"].errors


def test_never_expiring_tokens_only_when_the_settings_allow(client, tree, settings):
    settings.API_TOKEN_ALLOW_UNLIMITED = True
    user = tree.users[Role.GRID_WORKER]
    client.force_login(user)
    assert 'value="never"' in text(client.get(reverse("accounts:me")))
    client.post(reverse("accounts:me"), {"name": "服务器脚本", "expires_in": "never"})
    token = ApiToken.objects.get(user=user)
    assert token.expires_at is None
    assert "永不过期" in text(client.get(reverse("accounts:me")))


def test_user_revokes_own_token_on_the_page(client, tree):
    user = tree.users[Role.GRID_WORKER]
    token, raw = actions.token_create(user=user, name="旧手机")
    client.force_login(user)
    response = client.post(reverse("accounts:token_revoke", args=[token.pk]))
    assert response.status_code == 302
    token.refresh_from_db()
    assert token.revoked_at is not None
    assert Client().get("/api/v1/nodes", headers={"Authorization": f"Bearer {raw}"}).status_code == 401
    assert "已撤销" in text(client.get(reverse("accounts:me")))


def test_expired_token_shows_as_expired(client, tree):
    user = tree.users[Role.GRID_WORKER]
    token, _raw = actions.token_create(user=user, name="过期的")
    ApiToken.objects.filter(pk=token.pk).update(expires_at=timezone.now() - dt.timedelta(days=1))
    client.force_login(user)
    assert "已过期" in text(client.get(reverse("accounts:me")))


# --- staff: users' tokens ----------------------------------------------------------------------------------


def test_admin_revokes_tokens_in_scope_only(client, tree):
    grid_token, grid_raw = actions.token_create(user=tree.users[Role.GRID_WORKER], name="网格员脚本")
    admin_token, admin_raw = actions.token_create(user=tree.users[Role.COUNTY_ADMIN], name="县级脚本")
    other_town = make_user("jiuxiang", Role.COMMUNITY_STAFF, tree.comm_b)
    other_token, _ = actions.token_create(user=other_town, name="九襄镇")
    town_admin = tree.users[Role.SUBDISTRICT_STAFF]  # users.manage over 富林镇 only

    client.force_login(town_admin)
    page = client.get(reverse("accounts:token_admin"))
    assert page.status_code == 200
    body = text(page)
    assert "网格员脚本" in body and "县级脚本" not in body and "九襄镇" not in body

    for token in (admin_token, other_token):
        assert client.post(reverse("accounts:token_revoke", args=[token.pk])).status_code == 404
        token.refresh_from_db()
        assert token.revoked_at is None
    response = client.post(reverse("accounts:token_revoke", args=[grid_token.pk]), {"next": reverse("accounts:token_admin")})
    assert response.status_code == 302 and response.url == reverse("accounts:token_admin")
    grid_token.refresh_from_db()
    assert grid_token.revoked_at is not None
    event = AuditEvent.objects.get(action="token.revoke", object_id=str(grid_token.pk))
    assert event.actor == town_admin and event.org_path.startswith(tree.town_a.path)
    assert Client().get("/api/v1/nodes", headers={"Authorization": f"Bearer {grid_raw}"}).status_code == 401
    assert Client().get("/api/v1/nodes", headers={"Authorization": f"Bearer {admin_raw}"}).status_code == 200

    client.force_login(tree.users[Role.COUNTY_ADMIN])
    body = text(client.get(reverse("accounts:token_admin")))
    assert "县级脚本" in body and "九襄镇" in body


def test_staff_pages_need_users_manage(client, tree):
    for role in (Role.GRID_WORKER, Role.RESIDENT):
        client.force_login(tree.users[role])
        assert client.get(reverse("accounts:locks")).status_code == 403
        assert client.get(reverse("accounts:token_admin")).status_code == 403
        assert 'href="/accounts/locks/"' not in text(client.get(reverse("accounts:me")))
    # A community's staff manage its grid workers' accounts (issue 12), so they reach these pages too.
    for role in (Role.SUBDISTRICT_STAFF, Role.COMMUNITY_STAFF):
        client.force_login(tree.users[role])
        menu = nav(client.get(reverse("accounts:me")))
        assert reverse("accounts:locks") in menu and reverse("accounts:token_admin") in menu


# --- staff: login locks ----------------------------------------------------------------------------------


def test_locks_listed_and_lifted_in_scope(client, tree):
    lock("wangge", A1)  # a grid worker in 富林镇
    lock("admin", A2)  # the county administrator
    other_town = make_user("jiuxiang", Role.COMMUNITY_STAFF, tree.comm_b)
    lock("jiuxiang", A1)
    town_admin = tree.users[Role.SUBDISTRICT_STAFF]

    client.force_login(town_admin)
    response = client.get(reverse("accounts:locks"))
    assert response.status_code == 200
    locks = response.context["account_locks"]
    assert [(row["user"].username, row["address"]) for row in locks] == [("wangge", A1)]
    assert response.context["address_locks"] == []  # addresses are the county's business
    body = text(response)
    assert "wangge" in body and A1 in body and "jiuxiang" not in body and A2 not in body

    # Out of scope answers like a lock that does not exist, and lifts nothing.
    lift = reverse("accounts:lock_lift")
    assert client.post(lift, {"username": "admin", "address": A2}).status_code == 404
    assert client.post(lift, {"username": "jiuxiang", "address": A1}).status_code == 404
    assert client.post(lift, {"username": "nobody", "address": A1}).status_code == 404
    assert client.post(lift, {"address": A1}).status_code == 404  # a whole address: not theirs
    assert obtain("admin", address=A2).status_code == 429
    assert obtain("jiuxiang", address=A1).status_code == 429

    response = client.post(lift, {"username": "wangge", "address": A1})
    assert response.status_code == 302 and response.url == reverse("accounts:locks")
    assert obtain("wangge", address=A1).status_code == 201
    event = AuditEvent.objects.get(action="login.unlock")
    assert event.actor == town_admin and event.object_id == str(tree.users[Role.GRID_WORKER].pk)
    assert event.org_path.startswith(tree.town_a.path) and event.changes["address"] == A1

    # The county administrator sees and lifts the rest.
    client.force_login(tree.users[Role.COUNTY_ADMIN])
    locks = client.get(reverse("accounts:locks")).context["account_locks"]
    assert {(row["user"].username, row["address"]) for row in locks} == {("admin", A2), ("jiuxiang", A1)}
    assert client.post(lift, {"username": "jiuxiang", "address": A1}).status_code == 302
    assert obtain("jiuxiang", address=A1).status_code == 201
    assert other_town.pk


def test_a_lower_admin_cannot_lift_the_county_admins_lock(client, tree):
    community_admin = make_user("shequzhuren", Role.SUBDISTRICT_STAFF, tree.comm_a)  # users.manage in 城东社区
    lock("admin", A3)
    lock("wangge", A3)
    client.force_login(community_admin)
    rows = client.get(reverse("accounts:locks")).context["account_locks"]
    assert [row["user"].username for row in rows] == ["wangge"]
    assert client.post(reverse("accounts:lock_lift"), {"username": "admin", "address": A3}).status_code == 404
    assert obtain("admin", address=A3).status_code == 429
    assert not AuditEvent.objects.filter(action="login.unlock").exists()


def test_address_locks_listed_and_lifted_by_the_county_admin(client, tree):
    for i in range(12):
        obtain(f"guess{i}", "x", address=A3)
    assert obtain("wangge", address=A3).status_code == 429
    client.force_login(tree.users[Role.COUNTY_ADMIN])
    response = client.get(reverse("accounts:locks"))
    (row,) = response.context["address_locks"]
    assert row["address"] == A3 and row["failures"] == 12 and row["usernames"] == 12
    assert A3 in text(response)
    assert client.post(reverse("accounts:lock_lift"), {"address": A3}).status_code == 302
    assert obtain("wangge", address=A3).status_code == 201
    event = AuditEvent.objects.get(action="login.unlock_address")
    assert event.changes["address"] == A3 and event.org_path == tree.county.path


def test_lock_lift_needs_post_and_valid_input(client, tree):
    client.force_login(tree.users[Role.COUNTY_ADMIN])
    lift = reverse("accounts:lock_lift")
    assert client.get(lift).status_code == 405
    for bad in ({"address": "not-an-address"}, {}, {"username": "wangge"}):
        response = client.post(lift, bad)
        assert response.status_code == 400 and "地址" in text(response), bad
    assert client.post(lift, {"address": A1}).status_code == 404  # a valid address that is not locked
    assert client.post(lift, {"username": "wangge", "address": A1}).status_code == 404
