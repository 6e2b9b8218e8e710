"""Who may set a county up: start a county (a superuser, on a tree of their own), complete one (whoever
may edit the tree at the county node: its county administrators), import places (whoever may edit the
tree or the places somewhere: each row is checked against their area)."""

from __future__ import annotations

from gongzhi.orgs.models import NodeKind, OrgNode
from gongzhi.orgs.permissions import Perm


def _authenticated(user) -> bool:
    return user is not None and getattr(user, "is_authenticated", False) and user.is_active


def may_start_county(user) -> bool:
    """A new county is a new tree: only a superuser starts one (``gongzhi createadmin`` makes one)."""
    return _authenticated(user) and user.is_superuser


def may_set_up_county(user, node: OrgNode) -> bool:
    """Complete a county from the division codes: its townships, its code."""
    return _authenticated(user) and node.kind == NodeKind.COUNTY and user.can(Perm.TREE_EDIT, node.path)


def manages_setup(user) -> bool:
    """Sees the set-up page's county part and the checklist: a superuser (who may start a county), or someone
    who may edit the tree at a county node (its county administrators)."""
    if not _authenticated(user):
        return False
    if user.is_superuser:
        return True
    paths = user.paths_with(Perm.TREE_EDIT)
    return bool(paths) and OrgNode.objects.filter(path__in=paths, kind=NodeKind.COUNTY).exists()


def may_import_places(user) -> bool:
    """Import the places workbook at all: edits the tree or the places somewhere."""
    return _authenticated(user) and (user.can(Perm.TREE_EDIT) or user.can(Perm.PLACES_EDIT))


def may_import_places_at(user, node: OrgNode) -> bool:
    return _authenticated(user) and (user.can(Perm.TREE_EDIT, node.path) or user.can(Perm.PLACES_EDIT, node.path))
