"""The county's set-up checklist: the steps every app registers (``core.parts.setup_step``), each with its
count, its page and whether it is done, and the orgs app's own steps (the tree, places, residents)."""

from __future__ import annotations

from django.db.models import Count
from django.urls import reverse

from gongzhi.core import parts
from gongzhi.core.scoping import under

from ..models import Building, Compound, NodeKind, OrgNode, Resident

RESIDENT_CAP = 100_000  # counted up to this many: "100,000 or more" is all a checklist needs


def checklist(user, node: OrgNode) -> dict:
    """The steps of ``node``'s set-up in order, and the first one not done (what is next)."""
    steps = []
    for step in parts.setup_steps():
        state = step.state(user, node)
        steps.append({"key": step.key, "label": step.label, "count": state.count, "url": state.url,
                      "done": state.done, "capped": step.key == "residents" and state.count == RESIDENT_CAP})
    following = next((s for s in steps if not s["done"]), None)
    if following is not None:
        following["next"] = True
    return {"node": node, "steps": steps, "done": sum(1 for s in steps if s["done"]), "next": following}


def setup_tree(user, node: OrgNode) -> tuple[int, str, bool]:
    """Townships, communities and grids under the county; done when there are all three."""
    counts = dict(OrgNode.objects.filter(under(node.path, "path")).exclude(pk=node.pk).order_by()
                  .values("kind").annotate(n=Count("id")).values_list("kind", "n"))
    done = all(counts.get(k) for k in (NodeKind.SUBDISTRICT, NodeKind.COMMUNITY, NodeKind.GRID))
    return sum(counts.values()), reverse("setup:index"), done


def setup_places(user, node: OrgNode) -> tuple[int, str, bool]:
    """Compounds and buildings in the county; done once there are buildings (the registry needs them)."""
    buildings = Building.objects.filter(under(node.path)).count()
    compounds = Compound.objects.filter(under(node.path)).count()
    return compounds + buildings, reverse("setup:index") + "#places", buildings > 0


def setup_residents(user, node: OrgNode) -> tuple[int, str, bool]:
    n = Resident.objects.filter(under(node.path)).values("id")[:RESIDENT_CAP].count()
    return n, reverse("excel:index"), n > 0
