"""Login throttling on django-axes, shared by the login page and the token endpoint.

Failed logins are axes ``AccessAttempt`` rows, one per (user name, address, user agent). Within the cool-off
(``LOGIN_LOCKOUT_MINUTES`` after the last failure counted):

- an *address* with ``LOGIN_ADDRESS_MAX_FAILURES`` failures, whatever user names (known or not) it tried, is
  refused for every account;
- an *account* with ``LOGIN_MAX_FAILURES`` failures from one address is refused from that address only, so
  nobody can lock a user (the county administrator included) out from elsewhere.

Axes checks the limit before the password and counts the failure after it, so parallel attempts all pass
the check before any is counted. Here each attempt is counted *before* its password is checked, in one
transaction with the check, under a lock on the address (``LoginGate``), and handed back when the password
was right: N parallel wrong passwords get at most the limit of checks. A refused attempt is not counted, so
hammering a locked account does not make its lock last longer.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import math
import zlib
from dataclasses import dataclass

from axes.handlers.database import AxesDatabaseHandler
from axes.helpers import get_client_username
from axes.models import AccessAttempt
from axes.signals import user_locked_out
from django.conf import settings
from django.db import router, transaction
from django.db.models import Count, F, Max, Min, Q, Sum
from django.utils import timezone
from django.utils.translation import ngettext

from .models import LoginGate

GATE_SLOTS = 64
USERNAME_MAX = 255  # AccessAttempt.username


def failure_limit(request=None, credentials=None) -> int:
    """``AXES_FAILURE_LIMIT``: wrong passwords for one account from one address."""
    return settings.LOGIN_MAX_FAILURES


def cool_off(request=None) -> dt.timedelta:
    """``AXES_COOLOFF_TIME``: how long a lock lasts after the last failure counted."""
    return dt.timedelta(minutes=settings.LOGIN_LOCKOUT_MINUTES)


def _valid_ip(value: str | None) -> str | None:
    try:
        return str(ipaddress.ip_address((value or "").strip()))
    except ValueError:
        return None


def client_ip(request) -> str | None:
    """``AXES_CLIENT_IP_CALLABLE``: the connection's address, or behind a reverse proxy the address in
    ``CLIENT_IP_HEADER``, only when that is configured (a client can write anything into such headers).

    For ``X-Forwarded-For`` the address appended by the nearest of ``CLIENT_IP_PROXY_COUNT`` proxies counts
    (counted from the right), never what the client put before it."""
    remote = _valid_ip(request.META.get("REMOTE_ADDR"))
    header = settings.CLIENT_IP_HEADER
    if not header:
        return remote
    value = request.META.get("HTTP_" + header.upper().replace("-", "_"), "")
    hops = [h.strip() for h in value.split(",") if h.strip()]
    if not hops:
        return remote
    count = max(1, settings.CLIENT_IP_PROXY_COUNT)
    return _valid_ip(hops[-count] if len(hops) >= count else hops[0]) or remote


@dataclass(frozen=True)
class Lock:
    """Why logins are refused: ``kind`` is "address" (all accounts from the address) or "account" (this
    account from this address)."""

    kind: str
    until: dt.datetime
    failures: int

    @property
    def seconds_left(self) -> int:
        return max(1, math.ceil((self.until - timezone.now()).total_seconds()))

    def message(self) -> str:
        minutes = max(1, math.ceil(self.seconds_left / 60))
        params = {"minutes": minutes, "time": timezone.localtime(self.until).strftime("%H:%M")}
        if self.kind == "address":
            return ngettext(
                "Too many failed logins from your network address: logins from it are locked for %(minutes)s "
                "minute (until %(time)s). Try again later, or ask an administrator to lift the lock.",
                "Too many failed logins from your network address: logins from it are locked for %(minutes)s "
                "minutes (until %(time)s). Try again later, or ask an administrator to lift the lock.",
                minutes,
            ) % params
        return ngettext(
            "Too many wrong passwords for this account from your network address: its logins from here are "
            "locked for %(minutes)s minute (until %(time)s). Try again later, or ask an administrator to lift "
            "the lock.",
            "Too many wrong passwords for this account from your network address: its logins from here are "
            "locked for %(minutes)s minutes (until %(time)s). Try again later, or ask an administrator to lift "
            "the lock.",
            minutes,
        ) % params


def recent_attempts():
    """Failures still inside the cool-off."""
    return AccessAttempt.objects.filter(attempt_time__gte=timezone.now() - cool_off())


def current_lock(address: str | None, username: str) -> Lock | None:
    """The lock refusing ``username`` from ``address`` now, or None; one query."""
    mine = Q(username=username)
    row = recent_attempts().filter(ip_address=address).aggregate(
        all_failures=Sum("failures_since_start"), all_last=Max("attempt_time"),
        my_failures=Sum("failures_since_start", filter=mine), my_last=Max("attempt_time", filter=mine),
    )
    if (row["all_failures"] or 0) >= settings.LOGIN_ADDRESS_MAX_FAILURES:
        return Lock("address", row["all_last"] + cool_off(), row["all_failures"])
    if (row["my_failures"] or 0) >= settings.LOGIN_MAX_FAILURES:
        return Lock("account", row["my_last"] + cool_off(), row["my_failures"])
    return None


def _hold_gate(address: str | None) -> None:
    """Lock the address's gate row until the transaction ends (SQLite: the IMMEDIATE transaction already
    holds the database's write lock)."""
    slot = zlib.crc32((address or "").encode()) % GATE_SLOTS
    if not LoginGate.objects.select_for_update().filter(slot=slot).exists():
        LoginGate.objects.bulk_create([LoginGate(slot=slot)], ignore_conflicts=True)
        LoginGate.objects.select_for_update().filter(slot=slot).exists()


def _count_failure(request, username: str) -> None:
    attempt_time = timezone.now()
    key = {"username": username, "ip_address": request.axes_ip_address, "user_agent": request.axes_user_agent}
    more = {"http_accept": request.axes_http_accept, "path_info": request.axes_path_info}
    if not AccessAttempt.objects.filter(**key).update(
        failures_since_start=F("failures_since_start") + 1, attempt_time=attempt_time, **more
    ):
        AccessAttempt.objects.create(**key, **more, get_data="", post_data="", failures_since_start=1)


def _prepare(request, username) -> str:
    from axes.handlers.proxy import AxesProxyHandler

    AxesProxyHandler.update_request(request)  # request.axes_ip_address (client_ip), user agent, path
    return (username or "")[:USERNAME_MAX]


def reserve(request, username: str) -> Lock | None:
    """Before a password is checked: the lock refusing this attempt, or None after counting the attempt as
    a failure (handed back by ``succeeded``). Check and count are one step per address."""
    username = _prepare(request, username)
    with transaction.atomic(using=router.db_for_write(AccessAttempt)):
        _hold_gate(request.axes_ip_address)
        lock = current_lock(request.axes_ip_address, username)
        if lock is None:
            _count_failure(request, username)
    if lock is None:
        request.gongzhi_login_counted = True
    return lock


def succeeded(request, username: str) -> None:
    """The password was right: this account's failures from this address are forgotten, the reserved one too."""
    username = _prepare(request, username)
    AccessAttempt.objects.filter(username=username, ip_address=request.axes_ip_address).delete()


def refuse(request, lock: Lock) -> None:
    """Mark the request as refused; the login page and the token endpoint read ``request.gongzhi_lock``."""
    request.axes_locked_out = True
    request.gongzhi_lock = lock


class ThrottleHandler(AxesDatabaseHandler):
    """Axes' database handler with this module's two limits, and failures counted before the check."""

    def is_locked(self, request, credentials=None) -> bool:
        username = (get_client_username(request, credentials) or "")[:USERNAME_MAX]
        return current_lock(request.axes_ip_address, username) is not None

    def user_login_failed(self, sender, credentials: dict, request=None, **kwargs):
        if request is None:
            return
        self.clean_expired_user_attempts(request, credentials)
        username = (get_client_username(request, credentials) or "")[:USERNAME_MAX]
        if not request.axes_locked_out:
            if not getattr(request, "gongzhi_login_counted", False):  # not through ThrottledBackend
                with transaction.atomic(using=router.db_for_write(AccessAttempt)):
                    _count_failure(request, username)
            lock = current_lock(request.axes_ip_address, username)
            if lock is None:
                return
            refuse(request, lock)
        request.axes_credentials = credentials
        user_locked_out.send("axes", request=request, username=username, ip_address=request.axes_ip_address)


# --- joining by real name --------------------------------------------------------------------------------------
# Every try at joining (with a code or without) is counted before anything of the registry is looked at, per
# network address and per code, in one transaction under the address's gate (as ``reserve`` does for logins):
# parallel tries get at most the limit. Tries are not handed back: a family joining from one home network
# uses a few of the address's tries, a guesser runs out of them.


@dataclass(frozen=True)
class JoinLock:
    """Why joining is refused now: ``kind`` is "address" or "code"."""

    kind: str
    until: dt.datetime

    @property
    def seconds_left(self) -> int:
        return max(1, math.ceil((self.until - timezone.now()).total_seconds()))

    def message(self) -> str:
        minutes = max(1, math.ceil(self.seconds_left / 60))
        if self.kind == "code":
            return ngettext(
                "Too many tries with this code: it can be tried again in %(minutes)s minute. Ask your grid worker "
                "if you cannot join.",
                "Too many tries with this code: it can be tried again in %(minutes)s minutes. Ask your grid worker "
                "if you cannot join.",
                minutes,
            ) % {"minutes": minutes}
        return ngettext(
            "Too many tries at joining from your network address: try again in %(minutes)s minute.",
            "Too many tries at joining from your network address: try again in %(minutes)s minutes.",
            minutes,
        ) % {"minutes": minutes}


JOIN_SWEEP_EVERY = 50


def join_window() -> dt.timedelta:
    return dt.timedelta(minutes=settings.JOIN_ATTEMPT_WINDOW_MINUTES)


def join_reserve(request, code_hash: str = "") -> JoinLock | None:
    """Count one try at joining from the request's address (and with ``code_hash``), or answer the lock that
    refuses it (nothing counted then)."""
    from .models import JoinAttempt

    address = (client_ip(request) if request is not None else None) or ""
    since = timezone.now() - join_window()
    by_address, by_code = Q(address=address), Q(code_hash=code_hash) if code_hash else Q(pk__in=[])
    with transaction.atomic(using=router.db_for_write(JoinAttempt)):
        _hold_gate(address)
        row = JoinAttempt.objects.filter(by_address | by_code, at__gte=since).aggregate(
            n_address=Count("id", filter=by_address), first_address=Min("at", filter=by_address),
            n_code=Count("id", filter=by_code), first_code=Min("at", filter=by_code),
        )
        if row["n_address"] >= settings.JOIN_MAX_ATTEMPTS_PER_ADDRESS:
            return JoinLock("address", row["first_address"] + join_window())
        if code_hash and row["n_code"] >= settings.JOIN_MAX_ATTEMPTS_PER_CODE:
            return JoinLock("code", row["first_code"] + join_window())
        attempt = JoinAttempt.objects.create(address=address, code_hash=code_hash)
        if attempt.pk % JOIN_SWEEP_EVERY == 0:  # now and then, the tries older than the window go
            JoinAttempt.objects.filter(at__lt=since).delete()
    return None
