"""Registry reads, always through the scoping helper. Pages and the API both call these."""

from __future__ import annotations

import datetime as dt
import re

from django.db.models import Count, Exists, OuterRef, Prefetch, Q, QuerySet
from django.utils import timezone

from gongzhi.core.access import Role

from .permissions import Perm
from gongzhi.core import process_cache
from gongzhi.core.counting import capped_count
from gongzhi.core.pii import PIIError, blind_index, normalize_id_number, normalize_phone
from gongzhi.core.scoping import get_scoped, scope_q, scoped, under

from .models import (
    Building,
    CareTag,
    Compound,
    Household,
    NodeKind,
    OrgNode,
    PartyMember,
    PartyOrganization,
    Resident,
    Unit,
    UnitService,
)

# --- org nodes ---------------------------------------------------------------------------------


def nodes(user) -> QuerySet[OrgNode]:
    """Org nodes in the user's subtrees (any role that may see places)."""
    return scoped(OrgNode.objects.all(), user, Perm.PLACES_VIEW, field="path")


def node_get(user, pk) -> OrgNode:
    return get_scoped(OrgNode.objects.all(), user, Perm.PLACES_VIEW, field="path", pk=pk)


def node_roots(user) -> list[OrgNode]:
    """The top nodes of the user's scope (where their roles are held), for the tree browser."""
    paths = user.paths_with(Perm.PLACES_VIEW)
    return list(OrgNode.objects.filter(path__in=paths).order_by("path"))


def node_children(user, node: OrgNode) -> QuerySet[OrgNode]:
    return nodes(user).filter(path__startswith=node.path, depth=node.depth + 1).order_by("path")


def node_ancestors(node: OrgNode) -> list[OrgNode]:
    """Ancestors for breadcrumbs: names only, so shown whatever the scope."""
    step = OrgNode.steplen
    paths = [node.path[:i] for i in range(step, len(node.path), step)]
    return list(OrgNode.objects.filter(path__in=paths).order_by("depth"))


def node_figures(user, node: OrgNode) -> dict:
    """Counts under a node: children by level, compounds, buildings, households, residents, care groups."""
    within = under(node.path)
    kinds = dict(
        OrgNode.objects.filter(under(node.path, "path")).exclude(pk=node.pk)
        .order_by().values_list("kind").annotate(n=Count("id")).values_list("kind", "n")
    )
    figures = {
        "subdistricts": kinds.get(NodeKind.SUBDISTRICT, 0),
        "communities": kinds.get(NodeKind.COMMUNITY, 0),
        "grids": kinds.get(NodeKind.GRID, 0),
        "micro_grids": kinds.get(NodeKind.MICRO_GRID, 0),
        "buildings": Building.objects.filter(within).count(),
        "households": Household.objects.filter(within).count(),
        "residents": Resident.objects.filter(within).count(),
        "party_members": PartyMember.objects.filter(within).count(),
    }
    if node.kind in (NodeKind.COUNTY, NodeKind.SUBDISTRICT, NodeKind.COMMUNITY):
        figures["compounds"] = Compound.objects.filter(within).count()
    figures["care_groups"] = dict(
        CareTag.objects.filter(within).order_by().values_list("group").annotate(n=Count("id")).values_list("group", "n")
    )
    return figures


# --- places ------------------------------------------------------------------------------------


def compounds(user) -> QuerySet[Compound]:
    """Compounds in scope: those of the user's communities, and those with a building in the user's grids."""
    own = scope_q(user, Perm.PLACES_VIEW)
    if own is None:
        return Compound.objects.none()
    building_in_scope = Building.objects.filter(compound=OuterRef("pk")).filter(own)
    return Compound.objects.filter(own | Q(Exists(building_in_scope))).select_related("community")


def compound_get(user, pk) -> Compound:
    try:
        return compounds(user).get(pk=pk)
    except (Compound.DoesNotExist, ValueError, TypeError):
        from django.http import Http404

        raise Http404("not found") from None


def buildings(user) -> QuerySet[Building]:
    return scoped(Building.objects.select_related("compound", "grid"), user, Perm.PLACES_VIEW)


def building_get(user, pk) -> Building:
    return get_scoped(Building.objects.select_related("compound", "grid"), user, Perm.PLACES_VIEW, pk=pk)


# --- households and residents -----------------------------------------------------------------


def _own_household_q(user, field: str = "household_id") -> Q | None:
    """A resident account sees its own household."""
    if not getattr(user, "is_authenticated", False) or not user.has_role(Role.RESIDENT):
        return None
    resident = Resident.objects.filter(user=user).only("household_id").first()
    if resident is None:
        return None
    return Q(**{field: resident.household_id})


def households(user) -> QuerySet[Household]:
    return scoped(
        Household.objects.select_related("grid", "compound", "building", "entrance", "head"),
        user, Perm.REGISTRY_VIEW, extra=_own_household_q(user, "pk"),
    )


def household_get(user, pk) -> Household:
    return get_scoped(
        Household.objects.select_related("grid", "compound", "building", "entrance", "head"),
        user, Perm.REGISTRY_VIEW, extra=_own_household_q(user, "pk"), pk=pk,
    )


def residents(user) -> QuerySet[Resident]:
    return scoped(
        Resident.objects.select_related("household", "grid").prefetch_related(
            Prefetch("care_tags", queryset=CareTag.objects.only("id", "resident_id", "group"))
        ),
        user, Perm.REGISTRY_VIEW, extra=_own_household_q(user),
    )


def my_party_membership(user) -> PartyMember | None:
    """The party membership of the user's own registry record (a resident account), with its organisation,
    the organisation's secretary and places; None for anybody else."""
    if user is None or not user.is_authenticated:
        return None
    return (PartyMember.objects.filter(resident__user=user)
            .select_related("resident", "assigned_node", "organization__node", "organization__parent",
                            "organization__compound", "organization__building", "organization__secretary__resident")
            .first())


def rounds_home(user) -> bool:
    """Whether the user's home page is the grid worker's phone page: a grid worker without a role whose work
    is the whole area rather than one grid's rounds."""
    from gongzhi.core.access import Role

    area = (Role.COUNTY_ADMIN, Role.SUBDISTRICT_STAFF, Role.COMMUNITY_STAFF)
    return user.has_role(Role.GRID_WORKER) and not user.has_role(*area)


def is_party_member(user) -> bool:
    """Whether the user's own registry record has a party membership (asked once per request)."""
    if user is None or not user.is_authenticated:
        return False
    if not hasattr(user, "_is_party_member"):
        user._is_party_member = PartyMember.objects.filter(resident__user=user).exists()
    return user._is_party_member


def resident_get(user, pk) -> Resident:
    return get_scoped(
        Resident.objects.select_related("household", "grid").prefetch_related("care_tags"),
        user, Perm.REGISTRY_VIEW, extra=_own_household_q(user), pk=pk,
    )


def _birth_date_years_ago(years: int, today: dt.date | None = None) -> dt.date:
    today = today or timezone.localdate()
    try:
        return today.replace(year=today.year - years)
    except ValueError:  # 29 February
        return today.replace(year=today.year - years, day=28)


def resident_filter(
    qs: QuerySet[Resident], *, node: OrgNode | None = None, care_group: str = "", gender: str = "",
    residency: str = "", age_min: int | None = None, age_max: int | None = None, q: str = "",
    scope: list[str] | None = None,
) -> QuerySet[Resident]:
    """The filters the resident list offers; ages count in whole years as of today. ``scope``: the
    paths ``qs`` is already limited to, if known, so the care-group filter can start from the tags."""
    if node is not None:
        qs = qs.filter(under(node.path))
    if care_group:
        qs = qs.filter(_care_group_q(care_group, [node.path] if node is not None else scope))
    if gender:
        qs = qs.filter(gender=gender)
    if residency:
        qs = qs.filter(residency=residency)
    if age_min is not None:
        qs = qs.filter(birth_date__lte=_birth_date_years_ago(age_min))
    if age_max is not None:
        qs = qs.filter(birth_date__gt=_birth_date_years_ago(age_max + 1))
    if q:
        qs = qs.filter(search_q(q))
    return qs


_IDS_CAP = 2000


_FEW_IDS = 200


def _care_group_q(group: str, paths: list[str] | None) -> Q:
    """Residents in a care group within the area ``paths`` (the node picked, else the user's scope).
    Three ways, chosen by how many tags the area holds (read from the tags' (group, org_path, resident)
    index, at most ``_IDS_CAP`` + 1):

    - a handful (the veterans of a community): their resident ids, looked up by primary key;
    - a few hundred (the veterans of a subdistrict): the tags matched on the resident's org_path too,
      so PostgreSQL walks that index in the list's order and fetches a page of residents;
    - many (the elderly): walk the residents in page order and test each, which finds a page at once.
    """
    if paths:
        area = Q()
        for path in paths:
            area |= under(path)
        tags = CareTag.objects.filter(area, group=group)
        # The first few ids, and how many there are up to the cap, in one query (not the cap's worth of ids).
        found = list(tags.annotate(found=capped_count(tags.values("id")[:_IDS_CAP + 1]))
                     .values_list("resident_id", "found")[:_FEW_IDS + 1])
        count = found[0][1] if found else 0
        if count <= _FEW_IDS:
            return Q(id__in=[resident_id for resident_id, _count in found])
        if count <= _IDS_CAP:
            return Q(Exists(tags.filter(resident_id=OuterRef("id"), org_path=OuterRef("org_path"))))
    return Q(Exists(CareTag.objects.filter(resident=OuterRef("pk"), group=group)))


_INITIALS_RE = re.compile(r"^[A-Za-z]{1,10}$")
_ID_LIKE_RE = re.compile(r"^\d{17}[\dXx]$")
_PHONE_LIKE_RE = re.compile(r"^\+?[\d\- ]{7,16}$")


def search_q(text: str) -> Q:
    """What a search box means: an ID number or phone (exact, through the keyed hash), pinyin
    initials (prefix), the start of a name, or part of a house address (three characters or more)."""
    text = text.strip()
    if _ID_LIKE_RE.match(text):
        return Q(id_number_hash=blind_index("id", normalize_id_number(text)))
    if _PHONE_LIKE_RE.match(text):
        try:
            return Q(phone_hash=blind_index("phone", normalize_phone(text)))
        except PIIError:
            pass
    if _INITIALS_RE.match(text):
        return Q(name_initials__startswith=text.lower())
    # Names match from the start (full name, or surname and the first characters: an index prefix scan);
    # addresses match anywhere (a trigram index on PostgreSQL). Both are looked up first, as ids: the
    # planner cannot tell from its statistics how few residents a two-character prefix finds, and guessing
    # a hundred times too many it would walk a whole subdistrict in list order looking for them.
    name_ids = list(Resident.objects.filter(name__startswith=text).values_list("id", flat=True)[:_IDS_CAP + 1])
    by_name = Q(name__startswith=text) if len(name_ids) > _IDS_CAP else Q(id__in=name_ids)
    if len(text) < 3:  # a trigram index cannot serve one or two characters; a name prefix can
        return by_name
    household_ids = list(Household.objects.filter(address__contains=text).values_list("id", flat=True)[:_IDS_CAP + 1])
    if len(household_ids) > _IDS_CAP:  # a broad text: most rows match, a plain join finds them fast
        return by_name | Q(household__address__contains=text)
    return by_name | Q(household_id__in=household_ids)


def care_residents(user, node: OrgNode) -> QuerySet[Resident]:
    """Residents under ``node`` carrying any care-group tag: a grid worker's visiting list."""
    return residents(user).filter(under(node.path)).filter(
        Exists(CareTag.objects.filter(resident=OuterRef("pk")))
    ).order_by("household__address", "id")


# --- party and units ---------------------------------------------------------------------------


def party_orgs(user) -> QuerySet[PartyOrganization]:
    return scoped(
        PartyOrganization.objects.select_related("node", "parent", "secretary__resident"), user, Perm.PARTY_VIEW
    )


def party_org_get(user, pk) -> PartyOrganization:
    return get_scoped(PartyOrganization.objects.select_related("node", "parent"), user, Perm.PARTY_VIEW, pk=pk)


def party_members(user) -> QuerySet[PartyMember]:
    return scoped(
        PartyMember.objects.select_related("resident", "organization", "assigned_node"), user, Perm.PARTY_VIEW
    )


def party_member_get(user, pk) -> PartyMember:
    return get_scoped(
        PartyMember.objects.select_related("resident", "organization", "assigned_node"), user, Perm.PARTY_VIEW, pk=pk
    )


def units(user) -> QuerySet[Unit]:
    """Units that belong to a node in the user's scope, or serve a node in it or above it
    (a partner unit of a community is known to that community's grid workers)."""
    own = scope_q(user, Perm.UNITS_VIEW)
    if own is None:
        return Unit.objects.none()
    step = OrgNode.steplen
    above = {p[:i] for p in user.paths_with(Perm.UNITS_VIEW) for i in range(step, len(p) + 1, step)}
    serving = UnitService.objects.filter(unit=OuterRef("pk")).filter(own | Q(org_path__in=above))
    return Unit.objects.filter(own | Q(Exists(serving))).select_related("home")


def unit_get(user, pk) -> Unit:
    try:
        return units(user).get(pk=pk)
    except (Unit.DoesNotExist, ValueError, TypeError):
        from django.http import Http404

        raise Http404("not found") from None


# --- the area filter of the list pages ---------------------------------------------------------


_UPPER_KINDS = (NodeKind.COUNTY, NodeKind.SUBDISTRICT, NodeKind.COMMUNITY)
_NODE_FIELDS = ("pk", "name", "depth", "path", "kind")  # what the list pages read of a node


def _listed_nodes(user) -> tuple[int, list[tuple]]:
    """The area filter's choices, kept a short while (``process_cache``): the user's top depth and, in path
    order, (pk, name, depth, path, kind) of their top nodes and their children and everything down to
    community level (a county's thousand grids would swamp the list; a grid is reached from its community's
    page)."""
    top = min((len(p) // OrgNode.steplen for p in user.paths_with(Perm.PLACES_VIEW)), default=1)

    def read():
        listed = Q(kind__in=_UPPER_KINDS) | Q(depth__lte=top + 1)
        return list(nodes(user).filter(listed).order_by("path").values_list(*_NODE_FIELDS))

    return top, process_cache.get(process_cache.scope_key(user, "area-nodes"), read)


def area_nodes(user, wanted: set[int], *, options: bool, selected: int | None = None
                ) -> tuple[list[tuple], dict[int, OrgNode]]:
    """The area filter's options (with ``options``: ``_listed_nodes`` indented by depth, the ``selected``
    area last when it is deeper) and the nodes picked in the page's filters (``wanted``), in the user's
    scope: found among the listed ones, else looked up (one query, only for a picked grid or micro-grid).

    Returns the options as (pk, label) and the wanted nodes found, by pk; a wanted node that is missing
    or out of scope is simply not found (the caller answers 404, as ``node_get`` does)."""
    if not options and not wanted:
        return [], {}
    top, rows = _listed_nodes(user)
    found = {row[0]: row for row in rows if row[0] in wanted}
    if len(found) < len(wanted):
        found.update((row[0], row) for row in nodes(user).filter(pk__in=wanted - found.keys())
                     .values_list(*_NODE_FIELDS))
    found = {pk: OrgNode(**dict(zip(_NODE_FIELDS, row))) for pk, row in found.items()}
    if not options:
        return [], found
    if selected in found and all(row[0] != selected for row in rows):
        rows = [*rows, (selected, found[selected].name, found[selected].depth)]
    return [(pk, "\u3000" * max(0, depth - top) + name) for pk, name, depth, *_rest in rows], found


# --- map outlines ----------------------------------------------------------------------------------


def place_outlines(places: list[OrgNode]) -> dict:
    """A GeoJSON FeatureCollection of the outlines of ``places`` (grids and micro-grids the caller has already
    scoped, e.g. ``appeals.selectors.place_nodes``) and of the compounds that touch them (or of the whole
    community, when every grid of it is among ``places``), for maps drawn without tiles.

    Each feature's properties: ``id``, ``name``, ``label`` (the place's ``label`` attribute when the caller
    set one), ``kind`` (grid, micro_grid, compound), ``role`` (``cell``: a place a tap picks; ``area``: a
    grid drawn around its micro-grids' cells; ``compound``), ``grid`` (the grid a cell belongs to), ``set``
    (the outline was set, not derived) and ``center`` (where its label goes). Outlines are worked out per
    community (``outlines.community_outlines``) and kept a while in ``process_cache``, which forgets them
    when a node or a compound is saved or the tree moves."""
    from .outlines import community_outlines

    wanted = {p.pk: p for p in places}
    step = OrgNode.steplen
    above = {p.path[:i] for p in places for i in range(step, len(p.path), step)}
    features, compounds = [], []
    for community in OrgNode.objects.filter(path__in=above, kind=NodeKind.COMMUNITY).order_by("path"):
        kept = process_cache.get(("place-outlines", community.pk, community.path),
                                 lambda community=community: community_outlines(community))
        for node_id, feature in kept["places"].items():
            if node_id in wanted:
                label = getattr(wanted[node_id], "label", "") or feature["properties"]["name"]
                features.append({**feature, "properties": {**feature["properties"], "label": label}})
        whole = kept["grids"] <= wanted.keys()
        for feature, touching in kept["compounds"]:
            if whole or touching & wanted.keys():
                compounds.append({**feature, "properties": {**feature["properties"],
                                                            "label": feature["properties"]["name"]}})
    # Cells, then the grids' outlines around them, then compounds: drawn in that order, each above the one before.
    order = {"cell": 0, "area": 1}
    features.sort(key=lambda f: order[f["properties"]["role"]])
    return {"type": "FeatureCollection", "features": [*features, *compounds]}
