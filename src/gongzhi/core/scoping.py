"""The one scoping mechanism: every scoped read goes through ``scoped``; every fetch by id through ``get_scoped``.

A record is in a user's scope for a permission when its ``org_path`` starts
with the path of a node where the user holds a role granting that permission.
Out-of-scope and missing objects raise the same ``Http404``.
"""

from __future__ import annotations

from functools import reduce
from operator import or_

from django.db.models import Q, QuerySet
from django.http import Http404

_ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"  # treebeard's path alphabet


def past_subtree(path: str) -> str | None:
    """The smallest path above every path that starts with ``path`` (its next sibling's path);
    None when nothing can follow."""
    for i in range(len(path) - 1, -1, -1):
        k = _ALPHABET.index(path[i])
        if k + 1 < len(_ALPHABET):
            return path[:i] + _ALPHABET[k + 1]
    return None


# Fields that copy an org node's path: where a record lies (org_path), and for appeals who owns and who
# handles it. A node move rewrites them all. Derived tables (the dashboards' facts and roll-ups) name
# theirs differently on purpose: they are rebuilt instead. History (Relocation.from_path) is never rewritten.
COPIED_PATH_FIELDS = ("org_path", "owner_path", "handler_path")


def path_models() -> list[tuple[type, list[str]]]:
    """Every model with an ``org_path``, and its fields that copy a node's path (OrgNode keeps ``path``)."""
    from django.apps import apps

    out = []
    for model in apps.get_models():
        names = [f.name for f in model._meta.concrete_fields if f.name in COPIED_PATH_FIELDS]
        if "org_path" in names:
            out.append((model, names))
    return out


def under(path: str, field: str = "org_path") -> Q:
    """Q for "``field`` lies in the subtree at ``path``": ``path <= field < next sibling's path``.

    A range rather than LIKE 'p%', so both databases bound an index scan with it, including the
    ordered scans of (org_path, id) that paged lists use. Paths hold only 0-9 and A-Z, which every
    collation orders as ASCII does (SQLite compares bytes; PostgreSQL's C, en_US and zh_CN agree).
    """
    end = past_subtree(path)
    if end is None:
        return Q(**{f"{field}__gte": path})
    return Q(**{f"{field}__gte": path, f"{field}__lt": end})


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
