"""Registry writes: one function per business action, atomic, audited, keyword-only.

Views, the API, imports and the demo generator all write through these (the
demo and imports may use the ``*_values`` helpers to build rows in bulk).
"""

from __future__ import annotations

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Value
from django.db.models.functions import Concat, Substr
from django.utils.translation import gettext as _
from pypinyin import Style, lazy_pinyin

from gongzhi.core.access import SYSTEM
from gongzhi.orgs.permissions import Perm
from gongzhi.core import audit
from gongzhi.core.pii import (
    PIIError,
    blind_index,
    encrypt,
    mask_id_number,
    mask_phone,
    normalize_phone,
    parse_id_number,
)
from gongzhi.core.scoping import path_models, under

from . import geometry
from .models import (
    ALLOWED_CHILDREN,
    Building,
    CareTag,
    Compound,
    Household,
    NodeKind,
    OrgNode,
    PartyMember,
    PartyOrganization,
    Relocation,
    Resident,
)
from .signals import tree_moved

RESIDENT_AUDIT_FIELDS = ("name", "gender", "birth_date", "relation", "residency", "ethnicity", "household_id")


def name_initials(name: str) -> str:
    """Pinyin initials for search: 张三丰 -> zsf."""
    return "".join(p[0] for p in lazy_pinyin(name, style=Style.FIRST_LETTER) if p).lower()[:50]


def _require(user, perm: str, org_path: str):
    """Refuse a write outside the user's scope. The actor is required: ``core.access.SYSTEM`` for the
    demo, imports and tasks, never a missing one."""
    if user is None:
        raise PermissionDenied(_("An action needs the user who does it."))
    if not user.can(perm, org_path):
        raise PermissionDenied(_("You may not change records outside your area."))


# --- org tree ---------------------------------------------------------------------------------


@transaction.atomic
def orgnode_create(*, parent: OrgNode | None, name: str, kind: str, by, **fields) -> OrgNode:
    if "boundary" in fields:
        fields["boundary"] = geometry.clean_boundary(fields["boundary"])
    if parent is None:
        if kind not in (NodeKind.COUNTY, NodeKind.SUBDISTRICT):
            raise ValidationError(_("A tree starts at county or subdistrict level."))
        if by is None or (by is not SYSTEM and not by.is_superuser):
            raise PermissionDenied(_("Only a superuser may start a new tree."))
        node = OrgNode.objects.add_root(create_kwargs={"name": name, "kind": kind, **fields})
    else:
        _require(by, Perm.TREE_EDIT, parent.path)
        if kind not in ALLOWED_CHILDREN[parent.kind]:
            raise ValidationError(
                _("A %(child)s cannot stand under a %(parent)s.")
                % {"child": NodeKind(kind).label, "parent": NodeKind(parent.kind).label}
            )
        node = OrgNode.objects.add_child(parent, create_kwargs={"name": name, "kind": kind, **fields})
    audit.record(actor=by, action="orgnode.create", obj=node, changes={"name": name, "kind": kind})
    return node


@transaction.atomic
def orgnode_move(*, node: OrgNode, new_parent: OrgNode, by, reason: str = "") -> OrgNode:
    """Move a node (and its subtree) under another parent; every copied path follows."""
    _require(by, Perm.TREE_EDIT, node.path)
    _require(by, Perm.TREE_EDIT, new_parent.path)
    if node.kind not in ALLOWED_CHILDREN[new_parent.kind]:
        raise ValidationError(_("A %(child)s cannot stand under a %(parent)s.")
                              % {"child": node.get_kind_display(), "parent": new_parent.get_kind_display()})
    if new_parent.path.startswith(node.path):
        raise ValidationError(_("A node cannot move under itself."))
    old_path, old_parent = node.path, OrgNode.objects.get_parent(node)
    OrgNode.objects.move(node, new_parent, pos="last-child")
    node.refresh_from_db()
    _repath(old_path, node.path)
    Relocation.objects.create(
        kind=Relocation.Kind.NODE_MOVE, by=by if by and by.is_authenticated else None, from_node=old_parent,
        to_node=new_parent, from_path=old_path, to_path=node.path, reason=reason,
    )
    audit.record(actor=by, action="orgnode.move", obj=node, reason=reason,
                 changes={"parent": [str(old_parent), str(new_parent)]})
    transaction.on_commit(lambda: tree_moved.send(sender=OrgNode, node=node, old_path=old_path))
    return node


@transaction.atomic
def orgnode_set_boundary(*, node: OrgNode, boundary, by, reason: str = "") -> OrgNode:
    """Set a node's outline (a GeoJSON Polygon or MultiPolygon, as a dict or JSON text; checked by
    ``geometry.clean_boundary``), or remove it with None or "": maps then derive one from the points."""
    _require(by, Perm.PLACES_EDIT, node.path)
    text = geometry.clean_boundary(boundary)
    if text != node.boundary:
        before = geometry.vertex_count(node.boundary)
        node.boundary = text
        node.save(update_fields=["boundary"])
        audit.record(actor=by, action="orgnode.boundary", obj=node, reason=reason,
                     changes={"vertices": [before, geometry.vertex_count(text)]})
    return node


def _repath(old: str, new: str):
    """Rewrite every copied path (``org_path``, an appeal's owner and handler) under ``old`` to lie under ``new``."""
    for model, fields in path_models():
        for field in fields:
            model.objects.filter(under(old, field)).update(**{field: Concat(Value(new), Substr(field, len(old) + 1))})


# --- households and residents -------------------------------------------------------------------


def _grid_of(node: OrgNode) -> OrgNode:
    if node.kind == NodeKind.GRID:
        return node
    if node.kind == NodeKind.MICRO_GRID:
        return OrgNode.objects.get_parent(node)
    raise ValidationError(_("A household belongs to a grid or a micro-grid, not a %(kind)s.") % {"kind": node.get_kind_display()})


@transaction.atomic
def household_create(
    *, node: OrgNode, address: str, by, compound: Compound | None = None, building: Building | None = None,
    entrance=None, room: str = "",
) -> Household:
    """A new household in a grid or micro-grid; ``org_path`` is that node's path."""
    _require(by, Perm.REGISTRY_EDIT, node.path)
    grid = _grid_of(node)
    address = address.strip()
    if not address:
        raise ValidationError(_("A household needs an address."))
    if Household.objects.filter(address=address).exists():
        raise ValidationError(_("A household with this address already exists."))
    household = Household.objects.create(
        grid=grid, micro_grid=node if node.pk != grid.pk else None, org_path=node.path, address=address, compound=compound, building=building, entrance=entrance, room=room,
    )
    audit.record(actor=by, action="household.create", obj=household, changes={"address": address, "grid": str(node)})
    return household


def resident_values(*, name: str, id_number: str, phone: str = "") -> dict:
    """Validated and derived field values for a resident: gender and birth date from the ID number,
    ciphertexts, hashes and masks. Raises ValidationError with a message for the user."""
    name = (name or "").strip()
    if not name:
        raise ValidationError(_("The name is empty."))
    try:
        info = parse_id_number(id_number)
        phone_norm = normalize_phone(phone) if phone and phone.strip() else ""
    except PIIError as exc:
        raise ValidationError(str(exc)) from None
    return {
        "name": name,
        "name_initials": name_initials(name),
        "gender": info.gender,
        "birth_date": info.birth_date,
        "id_number_enc": encrypt(info.number),
        "id_number_hash": blind_index("id", info.number),
        "id_number_masked": mask_id_number(info.number),
        "phone_enc": encrypt(phone_norm),
        "phone_hash": blind_index("phone", phone_norm),
        "phone_masked": mask_phone(phone_norm),
    }


@transaction.atomic
def resident_create(
    *, household: Household, name: str, id_number: str, phone: str = "", relation: str = "other",
    residency: str = "registered", care_groups=(), by, **extra,
) -> Resident:
    _require(by, Perm.REGISTRY_EDIT, household.org_path)
    values = resident_values(name=name, id_number=id_number, phone=phone)
    if Resident.objects.filter(id_number_hash=values["id_number_hash"]).exists():
        raise ValidationError(_("A resident with this ID number is already registered."))
    resident = Resident.objects.create(
        household=household, org_path=household.org_path, grid_id=household.grid_id,
        relation=relation, residency=residency, **values, **extra,
    )
    for group in care_groups:
        CareTag.objects.create(resident=resident, group=group, org_path=resident.org_path)
    if relation == "head" and household.head_id is None:
        household.head = resident
        household.save(update_fields=["head"])
    audit.record(
        actor=by, action="resident.create", obj=resident,
        changes={"name": name, "id_number": id_number, "phone": phone, "care_groups": list(care_groups)},
    )
    return resident


@transaction.atomic
def resident_update(*, resident: Resident, by, care_groups=None, id_number=None, phone=None, **fields) -> Resident:
    """Change a resident's fields; ID number and phone are re-encrypted, care tags replaced if given."""
    _require(by, Perm.REGISTRY_EDIT, resident.org_path)
    before = audit.snapshot(resident, fields.keys())
    for key, value in fields.items():
        setattr(resident, key, value)
    changes = audit.diff(before, fields)
    if "name" in fields:
        resident.name_initials = name_initials(resident.name)
    if id_number is not None or phone is not None:
        values = resident_values(
            name=resident.name,
            id_number=id_number if id_number is not None else resident.reveal_id_number(),
            phone=phone if phone is not None else resident.reveal_phone(),
        )
        if id_number is not None and values["id_number_hash"] != resident.id_number_hash:
            if Resident.objects.filter(id_number_hash=values["id_number_hash"]).exclude(pk=resident.pk).exists():
                raise ValidationError(_("A resident with this ID number is already registered."))
            changes["id_number"] = ["", id_number]
        if phone is not None and values["phone_hash"] != resident.phone_hash:
            changes["phone"] = ["", phone]
        for key in ("gender", "birth_date", "id_number_enc", "id_number_hash", "id_number_masked",
                    "phone_enc", "phone_hash", "phone_masked"):
            setattr(resident, key, values[key])
    resident.full_clean(exclude=["household", "grid", "user"])
    resident.save()
    if care_groups is not None:
        old = set(resident.care_tags.values_list("group", flat=True))
        new = set(care_groups)
        if old != new:
            resident.care_tags.filter(group__in=old - new).delete()
            CareTag.objects.bulk_create(
                [CareTag(resident=resident, group=g, org_path=resident.org_path) for g in sorted(new - old)]
            )
            changes["care_groups"] = [sorted(old), sorted(new)]
    if changes:
        audit.record(actor=by, action="resident.update", obj=resident, changes=changes)
    return resident


@transaction.atomic
def resident_reveal(*, resident: Resident, by, field: str, reason: str) -> str:
    """The full ID number or phone of a resident, for a user allowed to see it; every reveal is audited."""
    if field not in ("id_number", "phone"):
        raise ValidationError(_("Unknown field."))
    if by is None or not by.can(Perm.PII_REVEAL, resident.org_path):
        raise PermissionDenied(_("Your role may not see full personal data."))
    reason = (reason or "").strip()
    if len(reason) < 2:
        raise ValidationError(_("Say why you need to see it."))
    value = resident.reveal_id_number() if field == "id_number" else resident.reveal_phone()
    audit.record(actor=by, action=f"pii.reveal.{field}", obj=resident, reason=reason, changes={"field": field})
    return value


@transaction.atomic
def household_move(*, household: Household, to_node: OrgNode, by, reason: str = "") -> Household:
    """Move a household to another grid or micro-grid; its members and tags follow, history kept."""
    _require(by, Perm.REGISTRY_EDIT, household.org_path)
    _require(by, Perm.REGISTRY_EDIT, to_node.path)
    grid = _grid_of(to_node)
    old_node_path = household.org_path
    old_node = household.micro_grid or household.grid
    if old_node_path == to_node.path:
        raise ValidationError(_("The household is already there."))
    household.grid, household.org_path = grid, to_node.path
    household.micro_grid = to_node if to_node.pk != grid.pk else None
    household.save(update_fields=["grid", "micro_grid", "org_path", "updated_at"])
    Resident.objects.filter(household=household).update(org_path=to_node.path, grid=grid)
    CareTag.objects.filter(resident__household=household).update(org_path=to_node.path)
    Relocation.objects.create(
        kind=Relocation.Kind.HOUSEHOLD_GRID, by=by if by and by.is_authenticated else None, household=household,
        from_node=old_node, to_node=to_node, from_path=old_node_path, to_path=to_node.path, reason=reason,
    )
    audit.record(actor=by, action="household.move", obj=household, reason=reason,
                 changes={"grid": [str(old_node), str(to_node)]})
    return household


@transaction.atomic
def resident_move(*, resident: Resident, to_household: Household, by, relation: str = "other", reason: str = "") -> Resident:
    """Move a resident to another household (marriage, moving in with children ...), history kept."""
    _require(by, Perm.REGISTRY_EDIT, resident.org_path)
    _require(by, Perm.REGISTRY_EDIT, to_household.org_path)
    old = resident.household
    if old.pk == to_household.pk:
        raise ValidationError(_("The resident already lives in this household."))
    if old.head_id == resident.pk:
        old.head = None
        old.save(update_fields=["head"])
    resident.household, resident.org_path, resident.grid_id = to_household, to_household.org_path, to_household.grid_id
    resident.relation = relation
    resident.save(update_fields=["household", "org_path", "grid", "relation", "updated_at"])
    resident.care_tags.update(org_path=to_household.org_path)
    Relocation.objects.create(
        kind=Relocation.Kind.RESIDENT_HOUSEHOLD, by=by if by and by.is_authenticated else None, resident=resident,
        from_household=old, to_household=to_household, from_path=old.org_path, to_path=to_household.org_path, reason=reason,
    )
    audit.record(actor=by, action="resident.move", obj=resident, reason=reason,
                 changes={"household": [str(old), str(to_household)]})
    return resident


@transaction.atomic
def grid_split(*, grid: OrgNode, new_name: str, households, by, reason: str = "") -> OrgNode:
    """Split a grid: a new sibling grid takes the given households (and their buildings' people).

    Every moved household, resident and tag gets the new path; history rows are kept.
    """
    if grid.kind != NodeKind.GRID:
        raise ValidationError(_("Only a grid can be split."))
    _require(by, Perm.TREE_EDIT, grid.path)
    households = list(households)
    if not households:
        raise ValidationError(_("Choose the households that go to the new grid."))
    if any(not h.org_path.startswith(grid.path) for h in households):
        raise ValidationError(_("Every household to move must belong to the grid being split."))
    community = OrgNode.objects.get_parent(grid)
    new_grid = orgnode_create(parent=community, name=new_name, kind=NodeKind.GRID, by=by)
    for h in households:
        household_move(household=h, to_node=new_grid, by=by, reason=reason or _("grid split"))
        h.relocations.filter(kind=Relocation.Kind.HOUSEHOLD_GRID, to_node=new_grid).update(kind=Relocation.Kind.GRID_SPLIT)
    Building.objects.filter(households__in=households).distinct().exclude(households__grid=grid).update(
        grid=new_grid, org_path=new_grid.path
    )
    audit.record(actor=by, action="grid.split", obj=grid, reason=reason,
                 changes={"new_grid": new_name, "households": len(households)})
    return new_grid


@transaction.atomic
def compound_set_boundary(*, compound: Compound, boundary, by, reason: str = "") -> Compound:
    """Set or remove a compound's outline, as ``orgnode_set_boundary``."""
    _require(by, Perm.PLACES_EDIT, compound.org_path)
    text = geometry.clean_boundary(boundary)
    if text != compound.boundary:
        before = geometry.vertex_count(compound.boundary)
        compound.boundary = text
        compound.save(update_fields=["boundary"])
        audit.record(actor=by, action="compound.boundary", obj=compound, reason=reason,
                     changes={"vertices": [before, geometry.vertex_count(text)]})
    return compound


@transaction.atomic
def party_org_create(*, name: str, kind: str, node: OrgNode, parent: PartyOrganization | None = None, by, **fields):
    _require(by, Perm.PARTY_EDIT, node.path)
    org = PartyOrganization.objects.create(name=name, kind=kind, node=node, org_path=node.path, parent=parent, **fields)
    audit.record(actor=by, action="party_org.create", obj=org, changes={"name": name, "kind": kind})
    return org
