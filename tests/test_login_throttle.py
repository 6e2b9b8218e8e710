"""Login throttling (django-axes): by address across usernames, by account only from the addresses it failed
from, counted before the password is checked so parallel attempts cannot get more checks than the limit.
The login page and the token endpoint say in Chinese that logins are locked and for how long."""

import datetime as dt
import threading
import time

import pytest
from django.db import connection, connections
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from gongzhi.accounts.models import ApiToken, User

from .factories import PASSWORD, make_user

TOKEN_URL = "/api/v1/auth/token"
HOME = "203.0.113.10"  # the address a user normally logs in from
ATTACKER = "198.51.100.66"


@pytest.fixture(autouse=True)
def _limits(settings):
    settings.LOGIN_MAX_FAILURES = 5
    settings.LOGIN_ADDRESS_MAX_FAILURES = 12
    settings.LOGIN_LOCKOUT_MINUTES = 15


def obtain(username, password=PASSWORD, address=HOME, client=None):
    client = client or Client()
    return client.post(TOKEN_URL, {"username": username, "password": password}, content_type="application/json",
                       REMOTE_ADDR=address)


def page_login(client, username, password=PASSWORD, address=HOME):
    return client.post(reverse("accounts:login"), {"username": username, "password": password}, REMOTE_ADDR=address)


def assert_says_locked(response):
    assert response.status_code == 429
    detail = response.json()["detail"]
    assert "锁定" in detail and "15 分钟" in detail, detail
    until = dt.datetime.fromisoformat(response.json()["locked_until"])
    assert timezone.now() < until <= timezone.now() + dt.timedelta(minutes=15, seconds=5)
    assert 0 < int(response["Retry-After"]) <= 15 * 60


def test_unknown_usernames_from_one_address_are_throttled(tree):
    answers = [obtain(f"nobody{i}", "guess", address=ATTACKER).status_code for i in range(30)]
    assert answers[:11] == [401] * 11
    assert answers[11:] == [429] * 19  # the 12th failure locks the address, whatever names it tries next
    assert_says_locked(obtain("wangge", address=ATTACKER))  # even a right password from there
    assert not ApiToken.objects.exists()
    # The login page refuses that address too, and says so.
    response = page_login(Client(), "wangge", address=ATTACKER)
    assert response.status_code == 429
    body = response.content.decode()
    assert "锁定" in body and "15 分钟" in body
    # Other addresses are not affected.
    assert obtain("wangge", address=HOME).status_code == 201
    assert page_login(Client(), "shequ", address=HOME).status_code == 302


def test_locked_account_logs_in_from_another_address(tree):
    for _ in range(4):
        assert obtain("wangge", "wrong", address=ATTACKER).status_code == 401
    assert_says_locked(obtain("wangge", "wrong", address=ATTACKER))  # the 5th failure locks it there
    assert_says_locked(obtain("wangge", address=ATTACKER))
    response = page_login(Client(), "wangge", address=ATTACKER)
    assert response.status_code == 429 and "锁定" in response.content.decode()
    # From an address that has not failed the same account gets in, on the page and through the API.
    browser = Client()
    response = page_login(browser, "wangge", address=HOME)
    assert response.status_code == 302
    assert browser.get(reverse("accounts:me")).status_code == 200
    assert obtain("wangge", address=HOME).status_code == 201


def test_others_cannot_lock_the_county_admin_out(tree):
    """Five wrong passwords from anywhere locked any account for everyone: a denial of service on the admin."""
    for address in (ATTACKER, "198.51.100.67", "198.51.100.68"):
        for _ in range(6):
            obtain("admin", "wrong", address=address)
        assert obtain("admin", address=address).status_code == 429
    admin = Client()
    assert page_login(admin, "admin", address=HOME).status_code == 302
    assert obtain("admin", address=HOME).status_code == 201


def test_success_clears_the_accounts_failures_from_that_address(tree):
    for _ in range(4):
        obtain("wangge", "wrong")
    assert obtain("wangge").status_code == 201
    for _ in range(4):
        assert obtain("wangge", "wrong").status_code == 401  # counting starts again
    assert obtain("wangge", "wrong").status_code == 429


def test_lock_ends_after_the_cool_off(tree):
    for _ in range(5):
        obtain("wangge", "wrong")
    assert obtain("wangge").status_code == 429
    from axes.models import AccessAttempt

    AccessAttempt.objects.update(attempt_time=timezone.now() - dt.timedelta(minutes=16))
    assert obtain("wangge").status_code == 201


def test_proxy_header_is_used_only_when_configured(tree, settings):
    for i in range(12):
        Client().post(TOKEN_URL, {"username": f"x{i}", "password": "guess"}, content_type="application/json",
                      REMOTE_ADDR="127.0.0.1", HTTP_X_FORWARDED_FOR=f"203.0.113.{100 + i}")
    # Not configured: the header is ignored (a client could write anything there), the proxy's address counts.
    assert obtain("wangge", address="127.0.0.1").status_code == 429

    settings.CLIENT_IP_HEADER = "X-Forwarded-For"
    settings.CLIENT_IP_PROXY_COUNT = 1
    forwarded = Client().post(TOKEN_URL, {"username": "wangge", "password": PASSWORD}, content_type="application/json",
                              REMOTE_ADDR="127.0.0.1", HTTP_X_FORWARDED_FOR="203.0.113.7")
    assert forwarded.status_code == 201
    # With one proxy the address it appended (the right-most) counts, not what the client wrote before it.
    for _ in range(5):
        Client().post(TOKEN_URL, {"username": "shequ", "password": "wrong"}, content_type="application/json",
                      REMOTE_ADDR="127.0.0.1", HTTP_X_FORWARDED_FOR="203.0.113.8")
    spoofed = Client().post(TOKEN_URL, {"username": "shequ", "password": PASSWORD}, content_type="application/json",
                            REMOTE_ADDR="127.0.0.1", HTTP_X_FORWARDED_FOR="1.2.3.4, 203.0.113.8")
    assert spoofed.status_code == 429


# --- parallel attempts: counted before the check ----------------------------------------------------


def _run_parallel(n, attempt):
    barrier = threading.Barrier(n)
    statuses = []

    def run(i):
        try:
            client = Client()
            barrier.wait(timeout=30)
            statuses.append(attempt(client, i).status_code)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    return statuses


def _count_password_work(monkeypatch):
    """Every check of a password (and the equal work done for an unknown name), slowed to widen the race."""
    checks = []
    lock = threading.Lock()
    check, set_password = User.check_password, User.set_password

    def counting_check(self, raw):
        with lock:
            checks.append(self.username)
        time.sleep(0.05)
        return check(self, raw)

    def counting_set(self, raw):
        with lock:
            checks.append(self.username or "(unknown)")
        time.sleep(0.05)
        return set_password(self, raw)

    monkeypatch.setattr(User, "check_password", counting_check)
    monkeypatch.setattr(User, "set_password", counting_set)
    return checks


@pytest.mark.django_db(transaction=True)
def test_parallel_wrong_passwords_get_no_more_checks_than_the_limit(monkeypatch):
    make_user("wangge")
    checks = _count_password_work(monkeypatch)
    statuses = _run_parallel(20, lambda client, i: obtain("wangge", "wrong", address=ATTACKER, client=client))
    assert len(statuses) == 20 and set(statuses) <= {401, 429}, statuses
    assert len(checks) <= 5, f"{len(checks)} password checks for a limit of 5"
    assert statuses.count(429) >= 15
    assert obtain("wangge", address=ATTACKER).status_code == 429
    assert obtain("wangge", address=HOME).status_code == 201
    assert connection.vendor in ("postgresql", "sqlite")


@pytest.mark.django_db(transaction=True)
def test_parallel_unknown_usernames_get_no_more_checks_than_the_address_limit(monkeypatch, settings):
    settings.LOGIN_ADDRESS_MAX_FAILURES = 5
    checks = _count_password_work(monkeypatch)
    statuses = _run_parallel(20, lambda client, i: obtain(f"nobody{i}", "guess", address=ATTACKER, client=client))
    assert len(statuses) == 20 and set(statuses) <= {401, 429}, statuses
    assert len(checks) <= 5, f"{len(checks)} password checks for an address limit of 5"
    assert statuses.count(429) >= 15
