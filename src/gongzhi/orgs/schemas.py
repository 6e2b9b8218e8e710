"""API schemas for the org tree and the registry: filters and writes in, records out; personal data masked."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, Literal

from ninja import Field, Schema

from gongzhi.core.api import Id, InSchema, Text
from gongzhi.core.text import Line

from . import geometry, policies
from .models import (
    CareGroup,
    CompoundKind,
    Gender,
    NodeKind,
    PartyOrgKind,
    Relation,
    ResidencyType,
    UnitKind,
)

# Literal (not Enum) types: the committed OpenAPI file then lists plain values inline.
NodeKindCode = Literal[tuple(NodeKind.values)]
CompoundKindCode = Literal[tuple(CompoundKind.values)]
GenderCode = Literal[tuple(Gender.values)]
RelationCode = Literal[tuple(Relation.values)]
ResidencyCode = Literal[tuple(ResidencyType.values)]
CareGroupCode = Literal[tuple(CareGroup.values)]
PartyOrgKindCode = Literal[tuple(PartyOrgKind.values)]
UnitKindCode = Literal[tuple(UnitKind.values)]

Name = Text(min_chars=1, max_length=50)
Reason = Text(min_chars=2, max_length=200)


# --- org nodes -----------------------------------------------------------------------------------


class NodeFilterIn(InSchema):
    kind: NodeKindCode | None = Field(None, description="Only nodes of this level.")
    parent: Id | None = Field(None, description="Only the direct children of this node id.")


class NodeOut(Schema):
    id: int
    name: str
    kind: NodeKindCode
    code: str = Field(description="Administrative or grid code.")
    is_rural: bool = Field(description="A village rather than an urban community.")
    is_active: bool
    depth: int = Field(description="1 for the top of the tree, one more per level down.")
    parent_id: int | None = Field(description="The parent node, null for the top of the tree.")
    lng: float | None = Field(description="Longitude of the rough centre.")
    lat: float | None = Field(description="Latitude of the rough centre.")


class NodeTreeOut(Schema):
    id: int
    name: str
    kind: NodeKindCode
    children: list[NodeTreeOut] = Field(description="Child nodes, down to the requested depth.")


NodeTreeOut.model_rebuild()


class NodeFiguresOut(Schema):
    subdistricts: int
    communities: int
    grids: int
    micro_grids: int
    compounds: int | None = Field(None, description="Only for county, subdistrict and community nodes.")
    buildings: int
    households: int
    residents: int
    party_members: int
    care_groups: dict[str, int] = Field(description="Residents per care group present under the node.")


# --- outlines --------------------------------------------------------------------------------------

Degrees = Annotated[float, Field(ge=-180, le=180)]
Position = Annotated[list[Degrees], Field(min_length=2, max_length=3, description="[longitude, latitude] (WGS84).")]
LinearRing = Annotated[list[Position], Field(min_length=4, max_length=geometry.MAX_VERTICES,
                                             description="Closed: the last position repeats the first.")]
PolygonRings = Annotated[list[LinearRing], Field(min_length=1, max_length=geometry.MAX_RINGS,
                                                 description="The outer ring, then any holes.")]


class PolygonIn(InSchema):
    type: Literal["Polygon"]
    coordinates: PolygonRings


class MultiPolygonIn(InSchema):
    type: Literal["MultiPolygon"]
    coordinates: Annotated[list[PolygonRings], Field(min_length=1, max_length=geometry.MAX_POLYGONS)]


class BoundaryIn(InSchema):
    boundary: Annotated[PolygonIn | MultiPolygonIn, Field(discriminator="type")] | None = Field(description=(
        f"A GeoJSON Polygon or MultiPolygon in WGS84 longitude and latitude inside China, every ring closed, at "
        f"most {geometry.MAX_VERTICES} positions in all; null removes the outline (maps then derive one from "
        f"the points)."
    ))
    reason: Line = Field("", max_length=200, description="Kept in the audit log.")


class BoundaryOut(Schema):
    id: int
    boundary: dict[str, Any] | None = Field(description="The GeoJSON geometry as stored, null when none is set.")
    vertices: int = Field(description="Positions in all its rings.")

    @staticmethod
    def resolve_boundary(obj) -> dict | None:
        return geometry.boundary_geometry(obj.boundary)

    @staticmethod
    def resolve_vertices(obj) -> int:
        return geometry.vertex_count(obj.boundary)


# --- places --------------------------------------------------------------------------------------


class CompoundFilterIn(InSchema):
    kind: CompoundKindCode | None = Field(None, description="Only compounds of this type.")
    community: Id | None = Field(None, description="Only compounds of this community node id.")


class CompoundOut(Schema):
    id: int
    name: str
    kind: CompoundKindCode
    community_id: int
    address: str
    built_year: int | None
    has_property_manager: bool
    property_manager: str
    has_owners_committee: bool
    has_self_management_committee: bool
    grid_ids: list[int] = Field(description="Grids the compound spans.")
    lng: float | None
    lat: float | None

    @staticmethod
    def resolve_grid_ids(obj) -> list[int]:
        return sorted(g.pk for g in obj.grids.all())


class BuildingFilterIn(InSchema):
    compound: Id | None = Field(None, description="Only buildings of this compound id.")
    grid: Id | None = Field(None, description="Only buildings assigned to this grid or micro-grid id.")


class BuildingOut(Schema):
    id: int
    name: str
    compound_id: int
    grid_id: int = Field(description="The grid or micro-grid the building is assigned to.")
    floors: int | None
    steward_id: int | None = Field(description="The building steward (a resident id).")


# --- households and residents ----------------------------------------------------------------------


class HouseholdFilterIn(InSchema):
    node: Id | None = Field(None, description="Only households under this node id (any level).")
    compound: Id | None = Field(None, description="Only households in this compound id.")
    building: Id | None = Field(None, description="Only households in this building id.")


class ResidentFilterIn(InSchema):
    node: Id | None = Field(None, description="Only residents under this node id (any level).")
    household: Id | None = Field(None, description="Only members of this household id.")
    care_group: CareGroupCode | None = Field(None, description="Only residents tagged with this care group.")
    gender: GenderCode | None = None
    residency: ResidencyCode | None = None
    age_min: int | None = Field(None, ge=0, le=150, description="Aged at least this many whole years today.")
    age_max: int | None = Field(None, ge=0, le=150, description="Aged at most this many whole years today.")
    q: Line = Field("", max_length=50, description=(
        "Search: a full ID number or phone (exact), pinyin initials (prefix), or part of a name or address."
    ))


class ResidentOut(Schema):
    id: int
    name: str
    gender: GenderCode
    birth_date: dt.date | None = Field(description=(
        "Only for a caller who may reveal the resident's ID number (pii.reveal), else null: with the masked "
        "ID number beside it, the birth date would give most of the number away. Use age."
    ))
    age: int = Field(description="Whole years today.")
    grid_id: int = Field(description="The grid the resident's household belongs to.")
    micro_grid_id: int | None = Field(description="The micro-grid, when the household is in one.")
    household_id: int
    id_number: str = Field(description="Masked ID number; the full one only through POST /residents/{id}/reveal.")
    phone: str = Field(description="Masked phone, empty when unknown; the full one only through reveal.")
    relation: RelationCode = Field(description="Relation to the head of household.")
    residency: ResidencyCode
    ethnicity: str
    is_party_member: bool
    care_groups: list[CareGroupCode]

    @staticmethod
    def resolve_birth_date(obj, context) -> dt.date | None:
        return obj.birth_date if policies.sees_birth_date(context["request"].auth, obj) else None

    @staticmethod
    def resolve_id_number(obj) -> str:
        return obj.id_number_masked

    @staticmethod
    def resolve_phone(obj) -> str:
        return obj.phone_masked

    @staticmethod
    def resolve_micro_grid_id(obj) -> int | None:
        return obj.household.micro_grid_id

    @staticmethod
    def resolve_care_groups(obj) -> list[str]:
        return sorted(t.group for t in obj.care_tags.all())


class HouseholdOut(Schema):
    id: int
    address: str
    grid_id: int = Field(description="The grid the household belongs to.")
    micro_grid_id: int | None = Field(description="The micro-grid, when it is in one.")
    compound_id: int | None
    building_id: int | None
    entrance_id: int | None
    room: str
    head_id: int | None = Field(description="The head of household (a resident id).")


class HouseholdDetailOut(HouseholdOut):
    members: list[ResidentOut]

    @staticmethod
    def resolve_members(obj) -> list:
        return obj.visible_members


class ResidentCreateIn(InSchema):
    household_id: Id
    name: Name
    id_number: Line = Field(max_length=40, description=(
        "18-digit resident ID number (GB 11643); gender and birth date come from it."
    ))
    phone: Line = Field("", max_length=40, description="Mobile number or landline with area code; may be empty.")
    relation: RelationCode = "other"
    residency: ResidencyCode = "registered"
    ethnicity: Line | None = Field(None, max_length=20, description="Omit for the default.")
    care_groups: list[CareGroupCode] = []


class ResidentUpdateIn(InSchema):
    """Only the fields sent change; null or omitted leaves a field as it is."""

    phone: Line | None = Field(None, max_length=40, description="New phone; an empty string removes it.")
    residency: ResidencyCode | None = None
    relation: RelationCode | None = None
    ethnicity: Line | None = Field(None, max_length=20)
    care_groups: list[CareGroupCode] | None = Field(None, description="The complete new set of care groups.")


class RevealIn(InSchema):
    field: Literal["id_number", "phone"]
    reason: Reason = Field(description="Why you need the full value (2 characters or more); kept in the audit log.")


class RevealOut(Schema):
    value: str = Field(description="The full, unmasked value.")


class HouseholdMoveIn(InSchema):
    to_node_id: Id = Field(description="The grid or micro-grid the household moves to.")
    reason: Line = Field("", max_length=200)


# --- party and units -----------------------------------------------------------------------------


class PartyOrgFilterIn(InSchema):
    node: Id | None = Field(None, description="Only organisations under this node id.")
    kind: PartyOrgKindCode | None = None


class PartyOrgOut(Schema):
    id: int
    name: str
    kind: PartyOrgKindCode
    parent_id: int | None = Field(description="The parent party organisation.")
    node_id: int
    compound_id: int | None
    building_id: int | None
    secretary_id: int | None = Field(description="The secretary (a party member id).")


class PartyMemberFilterIn(InSchema):
    node: Id | None = Field(None, description="Only members assigned under this node id.")
    organization: Id | None = Field(None, description="Only members of this party organisation id.")
    dual_registered: bool | None = Field(None, description="Only in-service members who reported (or did not).")


class PartyMemberOut(Schema):
    id: int
    resident_id: int
    name: str
    organization_id: int
    assigned_node_id: int = Field(description="The grid or micro-grid the member serves.")
    joined_on: dt.date | None
    work_unit: str
    in_service: bool
    dual_registered: bool
    dual_registered_on: dt.date | None

    @staticmethod
    def resolve_name(obj) -> str:
        return obj.resident.name


class UnitFilterIn(InSchema):
    kind: UnitKindCode | None = None


class UnitOut(Schema):
    id: int
    name: str
    kind: UnitKindCode
    home_id: int = Field(description="The node the unit belongs to.")
    contact_name: str
    contact_phone: str = Field(description="Masked contact phone.")
    served_node_ids: list[int] = Field(description="The nodes the unit serves.")

    @staticmethod
    def resolve_contact_phone(obj) -> str:
        return obj.contact_phone_masked

    @staticmethod
    def resolve_served_node_ids(obj) -> list[int]:
        return sorted(s.node_id for s in obj.services.all())
