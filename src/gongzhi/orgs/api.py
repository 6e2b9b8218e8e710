"""Registry API routes: thin wrappers over ``selectors`` (scoped reads) and ``actions`` (audited writes)."""

from django.db.models import OuterRef, Prefetch, Subquery
from django.db.models.functions import Length, Substr
from django.http import Http404
from ninja import Query, Router
from ninja.pagination import paginate
from ninja.responses import Status

from gongzhi.core.api import LIST_ERRORS, READ_ERRORS, WRITE_ERRORS, Id, Page
from gongzhi.core.scoping import under

from . import actions, selectors
from .models import OrgNode, UnitService
from .schemas import (
    BoundaryIn,
    BoundaryOut,
    BuildingFilterIn,
    BuildingOut,
    CompoundFilterIn,
    CompoundOut,
    HouseholdDetailOut,
    HouseholdFilterIn,
    HouseholdMoveIn,
    HouseholdOut,
    NodeFiguresOut,
    NodeFilterIn,
    NodeOut,
    NodeTreeOut,
    PartyMemberFilterIn,
    PartyMemberOut,
    PartyOrgFilterIn,
    PartyOrgOut,
    ResidentCreateIn,
    ResidentFilterIn,
    ResidentOut,
    ResidentUpdateIn,
    RevealIn,
    RevealOut,
    UnitFilterIn,
    UnitOut,
)

router = Router()
nodes_router = Router(tags=["org tree"])
places_router = Router(tags=["places"])
registry_router = Router(tags=["registry"])
party_router = Router(tags=["party"])
units_router = Router(tags=["units"])


# A valid path no tree reaches (the 1,679,615th root, six levels deep): nothing lies under it.
_NOWHERE = OrgNode(path="Z" * OrgNode.steplen * 6, depth=6)


def _filter_node(user, node_id: int | None) -> OrgNode | None:
    """The node a list is filtered by. Missing or out of scope both mean "nothing there", so the
    list comes back empty either way rather than telling the two apart."""
    if node_id is None:
        return None
    try:
        return selectors.node_get(user, node_id)
    except Http404:
        return _NOWHERE


def _with_parent_id(qs):
    # A materialized path's parent is the path minus its last step: one subquery, no query per row.
    parent = OrgNode.objects.filter(
        path=Substr(OuterRef("path"), 1, Length(OuterRef("path")) - OrgNode.steplen)
    ).values("pk")[:1]
    return qs.annotate(parent_id=Subquery(parent))


# --- org nodes -------------------------------------------------------------------------------------


@nodes_router.get("", response={200: list[NodeOut], **LIST_ERRORS}, summary="List org nodes")
@paginate(Page)
def node_list(request, filters: Query[NodeFilterIn]):
    """Nodes in your area, in tree order."""
    qs = selectors.nodes(request.auth)
    if filters.parent is not None:
        qs = selectors.node_children(request.auth, _filter_node(request.auth, filters.parent))
    if filters.kind:
        qs = qs.filter(kind=filters.kind)
    return _with_parent_id(qs.order_by("path"))


@nodes_router.get("/tree", response={200: list[NodeTreeOut], **LIST_ERRORS}, summary="Your subtree as nested JSON")
def node_tree(request, depth: int = Query(2, ge=0, le=4, description="Levels below your top nodes.")):
    """The nodes where your roles are held, each with its descendants down to ``depth`` levels."""
    user = request.auth
    roots = selectors.node_roots(user)
    if not roots:
        return []
    lowest = max(r.depth for r in roots) + depth
    items, top = {}, []
    for node in selectors.nodes(user).filter(depth__lte=lowest).order_by("path"):
        item = {"id": node.pk, "name": node.name, "kind": node.kind, "children": [], "level": 0}
        if any(node.path == r.path for r in roots):
            top.append(item)
        else:
            parent = items.get(node.path[: -OrgNode.steplen])
            if parent is None or parent["level"] >= depth:
                continue
            item["level"] = parent["level"] + 1
            parent["children"].append(item)
        items[node.path] = item
    return top


@nodes_router.get("/{node_id}", response={200: NodeOut, **READ_ERRORS}, summary="One org node")
def node_detail(request, node_id: Id):
    selectors.node_get(request.auth, node_id)
    return _with_parent_id(selectors.nodes(request.auth)).get(pk=node_id)


@nodes_router.get(
    "/{node_id}/children", response={200: list[NodeOut], **READ_ERRORS}, summary="Children of a node"
)
@paginate(Page)
def node_children(request, node_id: Id):
    node = selectors.node_get(request.auth, node_id)
    return _with_parent_id(selectors.node_children(request.auth, node))


@nodes_router.get(
    "/{node_id}/figures", response={200: NodeFiguresOut, **READ_ERRORS}, summary="Counts under a node"
)
def node_figures(request, node_id: Id):
    """Child nodes by level, places, households, residents, party members and care groups under the node."""
    node = selectors.node_get(request.auth, node_id)
    return selectors.node_figures(request.auth, node)


@nodes_router.get("/{node_id}/boundary", response={200: BoundaryOut, **READ_ERRORS}, summary="A node's outline")
def node_boundary(request, node_id: Id):
    return selectors.node_get(request.auth, node_id)


@nodes_router.put(
    "/{node_id}/boundary", response={200: BoundaryOut, **WRITE_ERRORS}, summary="Set or remove a node's outline"
)
def node_boundary_set(request, node_id: Id, payload: BoundaryIn):
    """For roles that edit places (403 otherwise); recorded in the audit log. Maps draw the outline instead of
    the one derived from the points of the node and its neighbours."""
    node = selectors.node_get(request.auth, node_id)
    boundary = payload.boundary.model_dump() if payload.boundary is not None else None
    return actions.orgnode_set_boundary(node=node, boundary=boundary, by=request.auth, reason=payload.reason)


# --- places ----------------------------------------------------------------------------------------


def _compounds(user):
    return selectors.compounds(user).prefetch_related(Prefetch("grids", queryset=OrgNode.objects.only("id")))


@places_router.get("/compounds", response={200: list[CompoundOut], **LIST_ERRORS}, summary="List compounds")
@paginate(Page)
def compound_list(request, filters: Query[CompoundFilterIn]):
    qs = _compounds(request.auth)
    if filters.kind:
        qs = qs.filter(kind=filters.kind)
    if filters.community is not None:
        qs = qs.filter(community_id=filters.community)
    return qs.order_by("org_path", "name", "id")


@places_router.get("/compounds/{compound_id}", response={200: CompoundOut, **READ_ERRORS}, summary="One compound")
def compound_detail(request, compound_id: Id):
    selectors.compound_get(request.auth, compound_id)
    return _compounds(request.auth).get(pk=compound_id)


@places_router.get(
    "/compounds/{compound_id}/boundary", response={200: BoundaryOut, **READ_ERRORS}, summary="A compound's outline"
)
def compound_boundary(request, compound_id: Id):
    return selectors.compound_get(request.auth, compound_id)


@places_router.put(
    "/compounds/{compound_id}/boundary", response={200: BoundaryOut, **WRITE_ERRORS},
    summary="Set or remove a compound's outline",
)
def compound_boundary_set(request, compound_id: Id, payload: BoundaryIn):
    """As for a node's outline."""
    compound = selectors.compound_get(request.auth, compound_id)
    boundary = payload.boundary.model_dump() if payload.boundary is not None else None
    return actions.compound_set_boundary(compound=compound, boundary=boundary, by=request.auth,
                                         reason=payload.reason)


@places_router.get("/buildings", response={200: list[BuildingOut], **LIST_ERRORS}, summary="List buildings")
@paginate(Page)
def building_list(request, filters: Query[BuildingFilterIn]):
    qs = selectors.buildings(request.auth)
    if filters.compound is not None:
        qs = qs.filter(compound_id=filters.compound)
    if filters.grid is not None:
        qs = qs.filter(grid_id=filters.grid)
    return qs.order_by("org_path", "compound_id", "name", "id")


@places_router.get("/buildings/{building_id}", response={200: BuildingOut, **READ_ERRORS}, summary="One building")
def building_detail(request, building_id: Id):
    return selectors.building_get(request.auth, building_id)


# --- households and residents --------------------------------------------------------------------------


@registry_router.get("/households", response={200: list[HouseholdOut], **LIST_ERRORS}, summary="List households")
@paginate(Page)
def household_list(request, filters: Query[HouseholdFilterIn]):
    qs = selectors.households(request.auth)
    node = _filter_node(request.auth, filters.node)
    if node is not None:
        qs = qs.filter(under(node.path))
    if filters.compound is not None:
        qs = qs.filter(compound_id=filters.compound)
    if filters.building is not None:
        qs = qs.filter(building_id=filters.building)
    return qs.order_by("address", "id")


@registry_router.get(
    "/households/{household_id}", response={200: HouseholdDetailOut, **READ_ERRORS},
    summary="One household with its members",
)
def household_detail(request, household_id: Id):
    household = selectors.household_get(request.auth, household_id)
    household.visible_members = list(
        selectors.residents(request.auth).filter(household=household).order_by("id")
    )
    return household


@registry_router.post(
    "/households/{household_id}/move", response={200: HouseholdOut, **WRITE_ERRORS},
    summary="Move a household to another grid",
)
def household_move(request, household_id: Id, payload: HouseholdMoveIn):
    """Members and care tags follow; the move is kept in the household's history and the audit log."""
    household = selectors.household_get(request.auth, household_id)
    to_node = selectors.node_get(request.auth, payload.to_node_id)
    return actions.household_move(household=household, to_node=to_node, by=request.auth, reason=payload.reason)


@registry_router.get("/residents", response={200: list[ResidentOut], **LIST_ERRORS}, summary="List residents")
@paginate(Page)
def resident_list(request, filters: Query[ResidentFilterIn]):
    """Residents in your area; ID numbers and phones masked."""
    qs = selectors.residents(request.auth)
    if filters.household is not None:
        qs = qs.filter(household_id=filters.household)
    qs = selectors.resident_filter(
        qs, node=_filter_node(request.auth, filters.node), care_group=filters.care_group or "",
        gender=filters.gender or "", residency=filters.residency or "", age_min=filters.age_min,
        age_max=filters.age_max, q=filters.q,
    )
    return qs.order_by("org_path", "household_id", "id")


@registry_router.get("/residents/{resident_id}", response={200: ResidentOut, **READ_ERRORS}, summary="One resident")
def resident_detail(request, resident_id: Id):
    return selectors.resident_get(request.auth, resident_id)


@registry_router.post("/residents", response={201: ResidentOut, **WRITE_ERRORS}, summary="Register a resident")
def resident_create(request, payload: ResidentCreateIn):
    """Add a resident to a household; gender and birth date come from the ID number."""
    household = selectors.household_get(request.auth, payload.household_id)
    extra = {"ethnicity": payload.ethnicity} if payload.ethnicity is not None else {}
    resident = actions.resident_create(
        household=household, name=payload.name, id_number=payload.id_number, phone=payload.phone,
        relation=payload.relation, residency=payload.residency, care_groups=payload.care_groups,
        by=request.auth, **extra,
    )
    return Status(201, selectors.resident_get(request.auth, resident.pk))


@registry_router.patch(
    "/residents/{resident_id}", response={200: ResidentOut, **WRITE_ERRORS}, summary="Change a resident"
)
def resident_update(request, resident_id: Id, payload: ResidentUpdateIn):
    resident = selectors.resident_get(request.auth, resident_id)
    fields = {k: v for k, v in payload.model_dump(exclude_unset=True).items() if v is not None}
    actions.resident_update(resident=resident, by=request.auth, **fields)
    return selectors.resident_get(request.auth, resident_id)


@registry_router.post(
    "/residents/{resident_id}/reveal", response={200: RevealOut, **WRITE_ERRORS},
    summary="Show a full ID number or phone",
)
def resident_reveal(request, resident_id: Id, payload: RevealIn):
    """For roles allowed to see personal data (403 otherwise); every reveal is written to the audit log."""
    resident = selectors.resident_get(request.auth, resident_id)
    value = actions.resident_reveal(resident=resident, by=request.auth, field=payload.field, reason=payload.reason)
    return {"value": value}


# --- party and units -----------------------------------------------------------------------------------


@party_router.get(
    "/party-organizations", response={200: list[PartyOrgOut], **LIST_ERRORS}, summary="List party organisations"
)
@paginate(Page)
def party_org_list(request, filters: Query[PartyOrgFilterIn]):
    qs = selectors.party_orgs(request.auth)
    node = _filter_node(request.auth, filters.node)
    if node is not None:
        qs = qs.filter(under(node.path))
    if filters.kind:
        qs = qs.filter(kind=filters.kind)
    return qs.order_by("org_path", "kind", "name", "id")


@party_router.get(
    "/party-organizations/{org_id}", response={200: PartyOrgOut, **READ_ERRORS}, summary="One party organisation"
)
def party_org_detail(request, org_id: Id):
    return selectors.party_org_get(request.auth, org_id)


@party_router.get("/party-members", response={200: list[PartyMemberOut], **LIST_ERRORS}, summary="List party members")
@paginate(Page)
def party_member_list(request, filters: Query[PartyMemberFilterIn]):
    qs = selectors.party_members(request.auth)
    node = _filter_node(request.auth, filters.node)
    if node is not None:
        qs = qs.filter(under(node.path))
    if filters.organization is not None:
        qs = qs.filter(organization_id=filters.organization)
    if filters.dual_registered is not None:
        qs = qs.filter(dual_registered=filters.dual_registered)
    return qs.order_by("org_path", "id")


@party_router.get(
    "/party-members/{member_id}", response={200: PartyMemberOut, **READ_ERRORS}, summary="One party member"
)
def party_member_detail(request, member_id: Id):
    return selectors.party_member_get(request.auth, member_id)


def _units(user):
    return selectors.units(user).prefetch_related(
        Prefetch("services", queryset=UnitService.objects.only("id", "unit_id", "node_id"))
    )


@units_router.get("/units", response={200: list[UnitOut], **LIST_ERRORS}, summary="List units")
@paginate(Page)
def unit_list(request, filters: Query[UnitFilterIn]):
    """Partner units and departments that belong to or serve a node in your area (or above it)."""
    qs = _units(request.auth)
    if filters.kind:
        qs = qs.filter(kind=filters.kind)
    return qs.order_by("kind", "name", "id")


@units_router.get("/units/{unit_id}", response={200: UnitOut, **READ_ERRORS}, summary="One unit")
def unit_detail(request, unit_id: Id):
    selectors.unit_get(request.auth, unit_id)
    return _units(request.auth).get(pk=unit_id)


router.add_router("/nodes", nodes_router)
router.add_router("/", places_router)
router.add_router("/", registry_router)
router.add_router("/", party_router)
router.add_router("/", units_router)
