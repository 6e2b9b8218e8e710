"""API authentication: bearer tokens (obtain, use, list, revoke, expiry), lockout, sessions with CSRF, anonymous 401."""

import datetime as dt

import pytest
from django.conf import settings
from django.test import Client
from django.utils import timezone

from gongzhi.accounts.models import ApiToken
from gongzhi.core.access import Role
from gongzhi.core.models import AuditEvent

from .factories import PASSWORD, make_user

TOKEN_URL = "/api/v1/auth/token"


def obtain(client, username, password=PASSWORD, **extra):
    body = {"username": username, "password": password, **extra}
    return client.post(TOKEN_URL, body, content_type="application/json")


def bearer(raw):
    return {"Authorization": f"Bearer {raw}"}


def test_obtain_token_and_use_it(tree, client):
    r = obtain(client, "wangge", name="field phone")
    assert r.status_code == 201
    raw = r.json()["token"]
    assert raw.startswith("gz_")
    token = ApiToken.objects.get(pk=r.json()["id"])
    assert token.user == tree.users[Role.GRID_WORKER] and token.name == "field phone"
    assert token.key_hash != raw and raw not in token.key_hash  # only the hash is stored
    assert AuditEvent.objects.filter(action="token.create", object_id=str(token.pk)).exists()

    anonymous = Client()
    r = anonymous.get("/api/v1/residents", headers=bearer(raw))
    assert r.status_code == 200
    assert [x["name"] for x in r.json()["items"]] == ["张建国"]  # the grid worker's scope
    token.refresh_from_db()
    assert token.last_used_at is not None


def test_wrong_password_is_401_with_message(tree, client):
    r = obtain(client, "wangge", "not-the-password")
    assert r.status_code == 401
    assert r.json()["detail"]
    assert not ApiToken.objects.exists()
    r = obtain(client, "nobody-of-that-name", "whatever")
    assert r.status_code == 401


def test_lockout_after_max_failures(tree, client):
    for _ in range(settings.LOGIN_MAX_FAILURES - 1):
        assert obtain(client, "wangge", "wrong").status_code == 401
    r = obtain(client, "wangge", "wrong")
    assert r.status_code == 429
    # Even the right password is refused while locked (from this address), and the answer says until when.
    r = obtain(client, "wangge")
    assert r.status_code == 429
    body = r.json()
    assert body["locked_until"] and "锁定" in body["detail"]
    assert int(r["Retry-After"]) > 0
    assert not ApiToken.objects.exists()


def test_inactive_user_gets_no_token(tree, client):
    user = tree.users[Role.GRID_WORKER]
    user.is_active = False
    user.save()
    assert obtain(client, "wangge").status_code == 401


def test_list_tokens_never_shows_secret(tree, client):
    raw1 = obtain(client, "wangge", name="one").json()["token"]
    raw2 = obtain(client, "wangge", name="two").json()["token"]
    obtain(client, "shequ", name="someone else's")
    r = client.get("/api/v1/auth/tokens", headers=bearer(raw1))
    assert r.status_code == 200
    body = r.json()
    assert body["count"] == 2
    assert {t["name"] for t in body["items"]} == {"one", "two"}
    item = body["items"][0]
    assert set(item) == {"id", "name", "prefix", "created_at", "last_used_at", "expires_at", "revoked_at", "status",
                         "is_active"}
    assert all(t["is_active"] and t["status"] == "active" for t in body["items"])
    text = r.content.decode()
    for raw in (raw1, raw2):
        assert raw not in text and raw[3:] not in text
        assert ApiToken.hash_of(raw) not in text


def test_revoke_then_401(tree, client):
    raw = obtain(client, "wangge", name="old").json()["token"]
    other = obtain(client, "wangge", name="keeper").json()
    token = ApiToken.objects.get(name="old")
    r = client.delete(f"/api/v1/auth/tokens/{token.pk}", headers=bearer(other["token"]))
    assert r.status_code == 204
    assert AuditEvent.objects.filter(action="token.revoke", object_id=str(token.pk)).exists()
    assert client.get("/api/v1/nodes", headers=bearer(raw)).status_code == 401
    r = client.get("/api/v1/nodes", headers=bearer(raw))
    assert "撤销" in r.json()["detail"]  # says why, not just "log in"
    listed = client.get("/api/v1/auth/tokens", headers=bearer(other["token"])).json()["items"]
    assert {t["name"]: t["is_active"] for t in listed} == {"old": False, "keeper": True}
    assert {t["name"]: t["status"] for t in listed} == {"old": "revoked", "keeper": "active"}


def test_revoking_another_users_token_is_404(tree, client):
    mine = obtain(client, "wangge").json()["token"]
    theirs = obtain(client, "shequ").json()
    r = client.delete(f"/api/v1/auth/tokens/{theirs['id']}", headers=bearer(mine))
    assert r.status_code == 404
    missing = client.delete("/api/v1/auth/tokens/999999", headers=bearer(mine))
    assert missing.status_code == 404 and missing.json() == r.json()
    assert ApiToken.objects.get(pk=theirs["id"]).is_active
    assert client.get("/api/v1/nodes", headers=bearer(theirs["token"])).status_code == 200


@pytest.mark.parametrize("header", ["Bearer gz_made-up", "Bearer ", "Token abc", "Basic d2FuZ2dlOnRlc3Q="])
def test_bad_authorization_is_401(tree, client, header):
    r = client.get("/api/v1/residents", headers={"Authorization": header})
    assert r.status_code == 401
    assert r.json()["detail"]


def test_anonymous_is_401_on_reads_and_writes(tree):
    anonymous = Client(enforce_csrf_checks=True)
    assert anonymous.get("/api/v1/nodes").status_code == 401
    assert anonymous.get("/api/v1/auth/tokens").status_code == 401
    r = anonymous.post(f"/api/v1/residents/{tree.resident_a.pk}/reveal", {"field": "phone", "reason": "check"},
                       content_type="application/json")
    assert r.status_code == 401  # not a CSRF 403: there is no session to protect


def test_session_auth_reads_and_csrf_on_writes(tree):
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(tree.users[Role.GRID_WORKER])
    r = browser.get("/api/v1/residents")
    assert r.status_code == 200 and r.json()["count"] == 1

    url = f"/api/v1/residents/{tree.resident_a.pk}"
    r = browser.patch(url, {"ethnicity": "回族"}, content_type="application/json")
    assert r.status_code == 403  # a logged-in browser must send the CSRF token
    tree.resident_a.refresh_from_db()
    assert tree.resident_a.ethnicity == "汉族"

    browser.get("/api/v1/docs")  # any page that sets the CSRF cookie
    csrf = browser.cookies["csrftoken"].value
    r = browser.patch(url, {"ethnicity": "回族"}, content_type="application/json", headers={"X-CSRFToken": csrf})
    assert r.status_code == 200
    assert r.json()["ethnicity"] == "回族"


def test_token_endpoint_needs_no_csrf(tree):
    script = Client(enforce_csrf_checks=True)
    assert obtain(script, "wangge").status_code == 201


def test_token_of_a_user_with_no_role_sees_nothing(db, client):
    make_user("norole")
    raw = obtain(client, "norole").json()["token"]
    r = client.get("/api/v1/residents", headers=bearer(raw))
    assert r.status_code == 200 and r.json() == {"items": [], "count": 0, "count_capped": False}


# --- expiry ----------------------------------------------------------------------------------------------


def test_token_expires_after_the_default_days(tree, client, settings):
    settings.API_TOKEN_DEFAULT_DAYS = 90
    r = obtain(client, "wangge", name="phone")
    assert r.status_code == 201
    expires = dt.datetime.fromisoformat(r.json()["expires_at"])
    assert abs(expires - (timezone.now() + dt.timedelta(days=90))) < dt.timedelta(minutes=1)
    token = ApiToken.objects.get(pk=r.json()["id"])
    assert abs(token.expires_at - expires) < dt.timedelta(milliseconds=1)  # JSON keeps milliseconds


def test_token_expiry_chosen_from_the_allowed_choices(tree, client, settings):
    settings.API_TOKEN_DAY_CHOICES = [7, 30, 90]
    settings.API_TOKEN_ALLOW_UNLIMITED = False
    r = obtain(client, "wangge", expires_in_days=7)
    assert r.status_code == 201
    expires = dt.datetime.fromisoformat(r.json()["expires_at"])
    assert abs(expires - (timezone.now() + dt.timedelta(days=7))) < dt.timedelta(minutes=1)
    for bad in (1000, 0):
        r = obtain(client, "wangge", expires_in_days=bad)
        assert r.status_code == 422, bad
        assert "7" in str(r.json()["detail"]) and "90" in str(r.json()["detail"])
    assert obtain(client, "wangge", expires_in_days=-1).status_code == 422  # below the schema's bound
    assert ApiToken.objects.count() == 1


def test_token_never_expires_only_when_allowed(tree, client, settings):
    settings.API_TOKEN_ALLOW_UNLIMITED = False
    assert obtain(client, "wangge", expires_in_days=0).status_code == 422
    settings.API_TOKEN_ALLOW_UNLIMITED = True
    r = obtain(client, "wangge", expires_in_days=0)
    assert r.status_code == 201 and r.json()["expires_at"] is None
    raw = r.json()["token"]
    assert client.get("/api/v1/nodes", headers=bearer(raw)).status_code == 200


def test_expired_token_is_401_with_a_clear_message(tree, client):
    raw = obtain(client, "wangge").json()["token"]
    token = ApiToken.objects.get()
    ApiToken.objects.filter(pk=token.pk).update(expires_at=timezone.now() - dt.timedelta(minutes=1))
    r = Client().get("/api/v1/residents", headers=bearer(raw))
    assert r.status_code == 401
    assert "过期" in r.json()["detail"]
    assert r["WWW-Authenticate"].startswith("Bearer")
    r = Client().get("/api/v1/auth/tokens", headers=bearer(raw))
    assert r.status_code == 401
    # Listed as expired to its owner (through another token).
    other = obtain(client, "wangge").json()["token"]
    listed = client.get("/api/v1/auth/tokens", headers=bearer(other)).json()["items"]
    assert sorted(t["status"] for t in listed) == ["active", "expired"]


def test_a_token_in_use_is_checked_from_the_cache_and_refused_at_once_when_revoked_or_its_user_disabled(tree, client):
    """A script's requests pay no database round trip for the token or the user's roles once the token has been
    seen; revoking it, or disabling its user, refuses the very next request."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    raw = obtain(client, "wangge", name="script").json()["token"]
    keeper = obtain(client, "wangge", name="keeper").json()["token"]
    script = Client()
    assert script.get("/api/v1/nodes", headers=bearer(raw)).status_code == 200
    with CaptureQueriesContext(connection) as queries:
        assert script.get("/api/v1/nodes", headers=bearer(raw)).status_code == 200
    read = " ".join(q["sql"] for q in queries.captured_queries)
    assert "accounts_apitoken" not in read and "accounts_roleassignment" not in read, read
    token = ApiToken.objects.get(name="script")
    assert client.delete(f"/api/v1/auth/tokens/{token.pk}", headers=bearer(keeper)).status_code == 204
    r = script.get("/api/v1/nodes", headers=bearer(raw))
    assert r.status_code == 401 and "撤销" in r.json()["detail"]

    assert script.get("/api/v1/nodes", headers=bearer(keeper)).status_code == 200  # now kept too
    user = tree.users[Role.GRID_WORKER]
    user.is_active = False
    user.save(update_fields=["is_active"])
    assert script.get("/api/v1/nodes", headers=bearer(keeper)).status_code == 401


def test_a_kept_token_still_expires_on_time(tree, client):
    raw = obtain(client, "wangge").json()["token"]
    assert Client().get("/api/v1/nodes", headers=bearer(raw)).status_code == 200  # kept from here on
    ApiToken.objects.filter(key_hash=ApiToken.hash_of(raw)).update(expires_at=timezone.now() - dt.timedelta(seconds=1))
    from django.core.cache import cache

    key = f"accounts:token:{ApiToken.hash_of(raw)}"
    token_id, user_id, _expires, generation = cache.get(key)
    cache.set(key, (token_id, user_id, timezone.now() - dt.timedelta(seconds=1), generation))  # as at the expiry
    r = Client().get("/api/v1/nodes", headers=bearer(raw))
    assert r.status_code == 401 and "过期" in r.json()["detail"]


def test_a_kept_token_is_refused_at_once_after_a_password_reset(tree, client):
    """A reset revokes every token of the account in one UPDATE (no save signal per token) and makes the
    password one to change first: a token whose check was kept is refused at the very next request all the same."""
    from gongzhi.accounts.actions import password_reset
    from gongzhi.core.access import SYSTEM

    raw = obtain(client, "wangge").json()["token"]
    script = Client()
    assert script.get("/api/v1/nodes", headers=bearer(raw)).status_code == 200
    assert script.get("/api/v1/nodes", headers=bearer(raw)).status_code == 200  # from the kept check
    password_reset(user=tree.users[Role.GRID_WORKER], by=SYSTEM)
    assert script.get("/api/v1/nodes", headers=bearer(raw)).status_code == 401
