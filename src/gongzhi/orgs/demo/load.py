"""Write a planned demo county into the database in bulk, in one transaction, with one audit row."""

from __future__ import annotations

import datetime as dt

from django.db import transaction
from django.db.models import OuterRef, Subquery
from django.utils.translation import gettext as _

from gongzhi.core import audit
from gongzhi.core.pii import encrypt, mask_phone
from gongzhi.orgs.actions import resident_values
from gongzhi.orgs.models import (
    Building,
    CareTag,
    Compound,
    Entrance,
    Household,
    OrgNode,
    PartyMember,
    PartyOrganization,
    Resident,
    Unit,
    UnitService,
)

from .plan import Node, Plan, plan_county

BATCH = 1000


class DemoError(Exception):
    """The demo county cannot be loaded here (the message says why)."""


def _tree_data(node: Node) -> dict:
    fields = {"name": node.name, "kind": node.kind, "code": node.code, "is_rural": node.is_rural,
              "lng": node.lng, "lat": node.lat}
    return {"data": fields, "children": [_tree_data(c) for c in node.children]}


def _bulk(model, objs):
    return model.objects.bulk_create(objs, batch_size=BATCH)


@transaction.atomic
def generate(*, seed: int = 1, scale: float = 1.0, today: dt.date | None = None) -> dict:
    """Load the demo county (汉源县) into an empty database and return the row counts.

    The same seed, scale and day give the same names and ID numbers (ciphertexts differ: nonces are random).
    """
    if OrgNode.objects.exists():
        raise DemoError(_("The demo county loads only into a database without an organisation tree."))
    plan = plan_county(seed=seed, scale=scale, today=today)
    _write_tree(plan)
    _write_places(plan)
    _write_people(plan)
    _write_units(plan)
    _write_party(plan)
    counts = _counts(plan)
    root = plan.root.obj
    audit.record(actor=None, action="demo.load", obj=root, changes={"seed": seed, "scale": scale, **counts})
    return counts


def _write_tree(plan: Plan):
    # Paths are computed by treebeard and the rows inserted with bulk_create.
    OrgNode.objects.load_bulk([_tree_data(plan.root)], bulk_create=True)
    root = OrgNode.objects.get_root_nodes().get(code=plan.root.code, name=plan.root.name)
    by_code = {n.code: n for n in OrgNode.objects.filter(path__startswith=root.path)}
    for n in plan.nodes:
        n.obj = by_code[n.code]


def _write_places(plan: Plan):
    for cp in plan.compounds:
        community = cp.community.obj
        cp.obj = Compound(
            community=community, org_path=community.path, name=cp.name, kind=cp.kind, address=cp.address,
            built_year=cp.built_year, has_property_manager=bool(cp.property_manager),
            property_manager=cp.property_manager, has_owners_committee=cp.owners_committee,
            has_self_management_committee=cp.self_management, lng=cp.lng, lat=cp.lat,
        )
    _bulk(Compound, [cp.obj for cp in plan.compounds])
    through = Compound.grids.through
    _bulk(through, [through(compound_id=cp.obj.pk, orgnode_id=g.obj.pk) for cp in plan.compounds for g in cp.grids])
    placed = [b for b in plan.buildings if b.node is not None]
    for b in placed:
        b.obj = Building(compound=b.compound.obj, grid=b.node.obj, org_path=b.node.obj.path, name=b.name,
                         floors=b.floors)
    _bulk(Building, [b.obj for b in placed])
    for b in placed:
        b.entrance_objs = {e: Entrance(building=b.obj, name=f"{e}单元") for e in range(1, b.entrances + 1)}
    _bulk(Entrance, [e for b in placed for e in b.entrance_objs.values()])
    for h in plan.households:
        node = h.node.obj
        grid = h.node.parent.obj if node.kind == "micro_grid" else node
        h.obj = Household(
            grid=grid, micro_grid=node if node is not grid else None, org_path=node.path, address=h.address, room=h.room,
            compound=h.compound.obj if h.compound else None,
            building=h.building.obj if h.building else None,
            entrance=h.building.entrance_objs[h.entrance] if h.building else None,
        )
    _bulk(Household, [h.obj for h in plan.households])


def _write_people(plan: Plan):
    rows = []
    for p in plan.people:
        household = p.household.obj
        values = resident_values(name=p.name, id_number=p.id_number, phone=p.phone)
        p.obj = Resident(
            household=household, org_path=household.org_path, grid_id=household.grid_id, relation=p.relation,
            residency=p.residency, ethnicity=p.ethnicity, is_party_member=p.member is not None, **values,
        )
        rows.append(p.obj)
    _bulk(Resident, rows)
    heads = Resident.objects.filter(household=OuterRef("pk"), relation="head").order_by("pk").values("pk")[:1]
    Household.objects.filter(org_path__startswith=plan.root.obj.path).update(head=Subquery(heads))
    _bulk(CareTag, [
        CareTag(resident=p.obj, group=group, org_path=p.obj.org_path, since=since)
        for p in plan.people for group, since in p.care
    ])
    stewarded = [b for b in plan.buildings if b.steward is not None and b.obj is not None]
    for b in stewarded:
        b.obj.steward = b.steward.obj
    Building.objects.bulk_update([b.obj for b in stewarded], ["steward"], batch_size=BATCH)


def _write_units(plan: Plan):
    county = plan.root.obj
    for u in plan.units:
        u.obj = Unit(
            name=u.name, kind=u.kind, home=county, org_path=county.path, contact_name=u.contact_name,
            contact_phone_enc=encrypt(u.contact_phone), contact_phone_masked=mask_phone(u.contact_phone),
        )
    _bulk(Unit, [u.obj for u in plan.units])
    _bulk(UnitService, [
        UnitService(unit=u.obj, node=node.obj, org_path=node.obj.path, since=since)
        for u in plan.units for node, since in u.serves
    ])


def _write_party(plan: Plan):
    # Parents come first in the plan, so one bulk insert per level gives every child its parent's id.
    for level in ("party_committee", "joint_party_committee", "party_branch", "party_group"):
        orgs = [o for o in plan.party_orgs if o.kind == level]
        for o in orgs:
            o.obj = PartyOrganization(
                name=o.name, kind=o.kind, node=o.node.obj, org_path=o.node.obj.path,
                parent=o.parent.obj if o.parent else None,
                compound=o.compound.obj if o.compound else None,
                building=o.building.obj if o.building else None,
            )
        _bulk(PartyOrganization, [o.obj for o in orgs])
    members = []
    for p in plan.people:
        m = p.member
        if m is None:
            continue
        node = p.household.obj.micro_grid or p.household.obj.grid
        p.member_obj = PartyMember(
            resident=p.obj, organization=m.organization.obj, assigned_node=node, org_path=node.path,
            joined_on=m.joined_on, work_unit=m.work_unit, in_service=m.in_service,
            dual_registered=m.dual_registered, dual_registered_on=m.dual_registered_on,
        )
        members.append(p.member_obj)
    _bulk(PartyMember, members)
    led = [o for o in plan.party_orgs if o.secretary is not None]
    for o in led:
        o.obj.secretary = o.secretary.member_obj
    PartyOrganization.objects.bulk_update([o.obj for o in led], ["secretary"], batch_size=BATCH)


def _counts(plan: Plan) -> dict:
    kinds = [n.kind for n in plan.nodes]
    return {
        "subdistricts": kinds.count("subdistrict"),
        "communities": kinds.count("community"),
        "grids": kinds.count("grid"),
        "micro_grids": kinds.count("micro_grid"),
        "compounds": len(plan.compounds),
        "buildings": sum(1 for b in plan.buildings if b.obj is not None),
        "entrances": sum(len(b.entrance_objs) for b in plan.buildings),
        "households": len(plan.households),
        "residents": len(plan.people),
        "care_tags": sum(len(p.care) for p in plan.people),
        "party_organizations": len(plan.party_orgs),
        "party_members": sum(1 for p in plan.people if p.member is not None),
        "partner_units": sum(1 for u in plan.units if u.kind == "partner_unit"),
        "departments": sum(1 for u in plan.units if u.kind == "department"),
    }
