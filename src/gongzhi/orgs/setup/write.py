"""The places a checked workbook adds, written in the order they build on each other: org nodes through
``orgnode_create`` (each audited), codes given to registered nodes, then compounds, buildings and entrances
in bulk with one audit row each, and one audit row for the import."""

from __future__ import annotations

from dataclasses import dataclass, field

from gongzhi.core import audit
from gongzhi.core.audit import Subject

from ..actions import orgnode_create
from ..models import Building, Compound, Entrance, NodeKind, OrgNode
from .parse import Place, PlaceTree

BATCH = 500


@dataclass
class Outcome:
    created: dict = field(default_factory=dict)  # kind -> places added
    coded: int = 0  # registered nodes that got their code
    unchanged: int = 0
    skipped: list = field(default_factory=list)  # sheets whose example row was skipped

    @property
    def total(self) -> int:
        return sum(self.created.values())


def write(tree: PlaceTree, rows, *, by, job) -> Outcome:
    """Write the plan of ``tree`` (every row valid); runs inside the import's transaction."""
    outcome = Outcome(unchanged=sum(1 for r in rows if r.state == "same"))
    objects: dict[int, OrgNode] = {}  # id(place) -> its node, one instance per parent (treebeard counts children on it)
    fetched = {n.pk: n for n in OrgNode.objects.filter(pk__in={p.parent.id for p in tree.new_nodes
                                                               if not p.parent.is_new} | {p.id for p in tree.coded})}

    def node_of(place: Place) -> OrgNode:
        if id(place) not in objects:
            objects[id(place)] = fetched[place.id]
        return objects[id(place)]

    for place in tree.new_nodes:
        node = orgnode_create(parent=node_of(place.parent), name=place.name, kind=place.kind, code=place.code,
                              by=by, **{k: v for k, v in place.fields.items() if v is not None})
        objects[id(place)] = node
        place.id, place.path = node.pk, node.path
        outcome.created[place.kind] = outcome.created.get(place.kind, 0) + 1
    for place in tree.coded:
        node = node_of(place)
        node.code = place.code
        fields = ["code"]
        if "is_rural" in place.fields:
            node.is_rural = place.fields["is_rural"]
            fields.append("is_rural")
        node.save(update_fields=fields)
        audit.record(actor=by, action="orgnode.code", obj=node, changes={"code": place.code, "import_job": job.pk})
        outcome.coded += 1

    compounds = [Compound(community_id=s.parent.id, org_path=s.parent.path, name=s.name,
                          **{k: v for k, v in s.fields.items() if not k.startswith("_")})
                 for s in tree.new_spots["compound"]]
    Compound.objects.bulk_create(compounds, batch_size=BATCH)
    for spot, obj in zip(tree.new_spots["compound"], compounds):
        spot.id = obj.pk
    buildings = [Building(compound_id=s.parent.id, grid_id=s.grid.id, org_path=s.grid.path, name=s.name,
                          floors=s.fields.get("floors")) for s in tree.new_spots["building"]]
    Building.objects.bulk_create(buildings, batch_size=BATCH)
    for spot, obj in zip(tree.new_spots["building"], buildings):
        spot.id = obj.pk
    entrances = [Entrance(building_id=s.parent.id, name=s.name) for s in tree.new_spots["entrance"]]
    Entrance.objects.bulk_create(entrances, batch_size=BATCH)

    # A compound spans the grids of its buildings.
    links = {(s.parent.id, _grid_of(s.grid).id) for s in tree.new_spots["building"]}
    Through = Compound.grids.through
    Through.objects.bulk_create([Through(compound_id=c, orgnode_id=g) for c, g in sorted(links)],
                                batch_size=BATCH, ignore_conflicts=True)

    changes = {"import_job": job.pk}
    audit.record_many(actor=by, action="compound.create", changes=changes, subjects=[
        Subject("orgs.compound", str(c.pk), c.name, c.org_path) for c in compounds])
    audit.record_many(actor=by, action="building.create", changes=changes, subjects=[
        Subject("orgs.building", str(b.pk), f"{s.parent.name}{b.name}", b.org_path)
        for s, b in zip(tree.new_spots["building"], buildings)])
    audit.record_many(actor=by, action="entrance.create", changes=changes, subjects=[
        Subject("orgs.entrance", str(e.pk), f"{s.parent.parent.name}{s.parent.name}{e.name}",
                s.parent.grid.path if s.parent.grid else "")
        for s, e in zip(tree.new_spots["entrance"], entrances)])
    for kind, made in (("compound", compounds), ("building", buildings), ("entrance", entrances)):
        if made:
            outcome.created[kind] = len(made)
    audit.record(actor=by, action="places.import", obj=job.node, changes={
        "import_job": job.pk, "rows": len(rows), "created": outcome.total, "coded": outcome.coded,
        "unchanged": outcome.unchanged})
    return outcome


def _grid_of(place: Place) -> Place:
    return place.parent if place.kind == NodeKind.MICRO_GRID else place
