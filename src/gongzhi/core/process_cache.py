"""Values worked out from rows that rarely change, kept per process for a short while: the choices the list
pages' filters offer (areas, units, categories) and the appeal list's compiled visibility conditions.

A list page loaded whole shows several select boxes; reading their choices costs three queries and more time
than the page's own rows, on every page, for lists that change a few times a year. So they are kept here
for ``TTL`` seconds, keyed by what they depend on (the database, and for scoped values the user's role
assignments, ``scope_key``), as the admin calendar is (``workdays.overrides``).

A change made in this process clears them at once: the apps that own the models connect their save and
delete signals (``clear_on``) and the tree's move signal in their ``ready``. Other web processes see it
within ``TTL`` seconds. What a user may see is checked on every request: a kept condition is the user's
own, keyed by their roles, and a node picked in a filter is either among the user's kept choices, which
were scoped when read, or is looked up in scope.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Hashable
from typing import TypeVar

from django.db import connection
from django.db.models.signals import post_delete, post_save

T = TypeVar("T")

TTL = 30.0
_MAX = 4096  # a bound, not a policy: starting afresh costs one read per key

_lock = threading.Lock()
_store: dict[Hashable, tuple[float, object]] = {}


def get(key: Hashable, build: Callable[[], T]) -> T:
    """The value kept under ``key`` for this database, or ``build()`` kept from now for ``TTL`` seconds."""
    key = (connection.alias, key)
    now = time.monotonic()
    hit = _store.get(key)
    if hit is not None and hit[0] > now:
        return hit[1]  # type: ignore[return-value]
    value = build()
    with _lock:
        if len(_store) >= _MAX:
            _store.clear()
        _store[key] = (now + TTL, value)
    return value


def scope_key(user, name: str) -> tuple:
    """A key for choices that depend on the user's place in the tree: their active role assignments (users
    with the same roles at the same nodes share it)."""
    return (name, frozenset((a.role, a.org_path, a.unit_id) for a in user.active_assignments))


def clear(**_signal_kwargs) -> None:
    with _lock:
        _store.clear()


def clear_on(*models) -> None:
    """Clear every kept choice when one of ``models`` is saved or deleted in this process."""
    for model in models:
        uid = f"process-cache-{model._meta.label_lower}"
        post_save.connect(clear, sender=model, dispatch_uid=f"{uid}-save", weak=False)
        post_delete.connect(clear, sender=model, dispatch_uid=f"{uid}-delete", weak=False)
