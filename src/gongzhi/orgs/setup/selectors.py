"""Reads of the set-up: the counties a user sets up, the township rows the division list would add."""

from __future__ import annotations

from gongzhi.core.scoping import scoped
from gongzhi.orgs.models import NodeKind, OrgNode
from gongzhi.orgs.permissions import Perm

from . import divisions


def setup_counties(user) -> list[OrgNode]:
    """County nodes whose set-up the user may complete (the tree editable at the county itself)."""
    if user is None or not user.is_authenticated:
        return []
    nodes = scoped(OrgNode.objects.filter(kind=NodeKind.COUNTY), user, Perm.TREE_EDIT, field="path")
    return list(nodes.order_by("path"))


def county_by_code(code: str) -> OrgNode | None:
    return OrgNode.objects.filter(kind=NodeKind.COUNTY, code=code).order_by("path").first()


def township_plan(code: str, node: OrgNode | None) -> list[dict]:
    """The county's townships from the division list and, for an existing county node, whether each is
    there already (by code, or by name without a code: it gets the code)."""
    present_codes, present_names = set(), set()
    if node is not None:
        for child in OrgNode.objects.get_children(node).values("code", "name"):
            if child["code"]:
                present_codes.add(child["code"])
            else:
                present_names.add(child["name"])
    rows = []
    for t in divisions.townships(code):
        state = "present" if t.code in present_codes else "coded" if t.name in present_names else "new"
        rows.append({"code": t.code, "name": t.name, "is_rural": t.is_rural, "state": state})
    return rows
