"""The one scoping mechanism: every scoped read goes through ``scoped``; every fetch by id through ``get_scoped``.

A record is in a user's scope for a permission when its ``org_path`` starts
with the path of a node where the user holds a role granting that permission.
Out-of-scope and missing objects raise the same ``Http404``.
"""

from __future__ import annotations

from functools import reduce
from operator import or_

from django.db import connection
from django.db.models import Q, QuerySet
from django.http import Http404

# Treebeard paths use 0-9A-Z only, so every path with a given prefix sorts
# between the prefix and the prefix followed by DEL.
_PAST_PATH = "\x7f"


def path_models() -> list:
    """Every model that copies its node's path into ``org_path`` (OrgNode itself keeps ``path``)."""
    from django.apps import apps

    return [m for m in apps.get_models() if any(f.name == "org_path" for f in m._meta.concrete_fields)]


def under(path: str, field: str = "org_path") -> Q:
    """Q for "``field`` lies in the subtree at ``path``", as an index-friendly prefix test."""
    if connection.vendor == "postgresql":
        # Django gives indexed CharFields a varchar_pattern_ops index, which LIKE 'p%' uses.
        return Q(**{f"{field}__startswith": path})
    return Q(**{f"{field}__gte": path, f"{field}__lt": path + _PAST_PATH})


def scope_q(user, perm: str, field: str = "org_path") -> Q | None:
    """Q limiting rows to the user's subtrees for ``perm``; None when the user holds it nowhere."""
    if user is None or not user.is_authenticated:
        return None
    paths = user.paths_with(perm)
    if not paths:
        return None
    return reduce(or_, (under(p, field) for p in paths))


def scoped(qs: QuerySet, user, perm: str, field: str = "org_path", extra: Q | None = None) -> QuerySet:
    """Rows of ``qs`` the user may see for ``perm`` (plus ``extra``, e.g. a resident's own household)."""
    q = scope_q(user, perm, field)
    if q is None and extra is None:
        return qs.none()
    if q is None:
        return qs.filter(extra)
    if extra is not None:
        q = q | extra
    return qs.filter(q)


def get_scoped(qs: QuerySet, user, perm: str, field: str = "org_path", extra: Q | None = None, **lookup):
    """Fetch one object in scope; a missing object and one out of scope both raise Http404."""
    try:
        return scoped(qs, user, perm, field, extra).get(**lookup)
    except (qs.model.DoesNotExist, ValueError, TypeError):
        raise Http404("not found") from None
