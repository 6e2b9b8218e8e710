"""The organisation tree and the registry: places, households, residents, party organisations, units.

Every scoped record carries ``org_path``, the treebeard path of the org node it
belongs to, so "everything under this node" is one indexed prefix query on
SQLite and PostgreSQL alike (see ``gongzhi.core.scoping``).
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy
from treebeard.mp_tree import MP_Node

from gongzhi.core.pii import decrypt, mask_id_number, mask_phone

PATH_LENGTH = 64
BOUNDARY_HELP = _("A GeoJSON Polygon or MultiPolygon in WGS84 longitude and latitude; empty to derive an "
                  "outline from the points.")


class NodeKind(models.TextChoices):
    COUNTY = "county", _("County")
    SUBDISTRICT = "subdistrict", _("Subdistrict / town")
    COMMUNITY = "community", _("Community / village")
    GRID = "grid", _("Grid")
    MICRO_GRID = "micro_grid", _("Micro-grid")


NODE_DEPTH_ORDER = [NodeKind.COUNTY, NodeKind.SUBDISTRICT, NodeKind.COMMUNITY, NodeKind.GRID, NodeKind.MICRO_GRID]
# Which kinds may stand directly under which: a deployment may start at county or subdistrict level.
ALLOWED_CHILDREN = {
    NodeKind.COUNTY: {NodeKind.SUBDISTRICT},
    NodeKind.SUBDISTRICT: {NodeKind.COMMUNITY},
    NodeKind.COMMUNITY: {NodeKind.GRID},
    NodeKind.GRID: {NodeKind.MICRO_GRID},
    NodeKind.MICRO_GRID: set(),
}


class OrgNode(MP_Node):
    """A place in the organisation tree: county > subdistrict > community > grid > micro-grid."""

    steplen = 4
    # No node_order_by: sorted inserts would shift sibling paths, which scoped records copy.

    name = models.CharField(_("name"), max_length=100)
    kind = models.CharField(_("level"), max_length=16, choices=NodeKind.choices)
    code = models.CharField(_("code"), max_length=32, blank=True, help_text=_("Administrative or grid code"))
    is_rural = models.BooleanField(_("rural (village)"), default=False)
    is_active = models.BooleanField(_("active"), default=True)
    notes = models.TextField(_("notes"), blank=True)
    # Rough centre for maps drawn from vector data (no tile server is reachable).
    lng = models.FloatField(_("longitude"), null=True, blank=True)
    lat = models.FloatField(_("latitude"), null=True, blank=True)
    # The outline where one is known (checked by ``geometry.clean_boundary``); maps derive one from the points
    # of the node and its siblings otherwise (``selectors.place_outlines``).
    boundary = models.TextField(_("boundary"), blank=True, default="", help_text=BOUNDARY_HELP)

    class Meta:
        verbose_name = _("org node")
        verbose_name_plural = _("org nodes")
        indexes = [models.Index(fields=["kind", "path"])]

    def __str__(self):
        return self.name

    @property
    def org_path(self) -> str:
        return self.path

    def kind_label(self):
        return self.get_kind_display()


class CareGroup(models.TextChoices):
    ELDERLY_ALONE = "elderly_alone", _("Elderly living alone")
    ADVANCED_AGE = "advanced_age", _("Advanced age")
    SUBSISTENCE = "subsistence", _("Subsistence allowance")
    DISABLED = "disabled", pgettext_lazy("care group", "Disabled")
    LEFT_BEHIND_CHILD = "left_behind_child", _("Left-behind child")
    HARDSHIP = "hardship", _("Hardship family")
    VETERAN = "veteran", _("Veteran")


class CompoundKind(models.TextChoices):
    COMMODITY = "commodity", _("Commodity housing")
    OLD = "old", _("Old compound")
    RESETTLEMENT = "resettlement", _("Resettlement housing")
    SELF_BUILT = "self_built", _("Self-built housing")
    RURAL_COURTYARD = "rural_courtyard", _("Rural courtyard")


class Compound(models.Model):
    """A residential compound or courtyard (小区/院落) in one community; it may span grids."""

    community = models.ForeignKey(
        OrgNode, verbose_name=_("community"), on_delete=models.PROTECT, related_name="compounds"
    )
    org_path = models.CharField(max_length=PATH_LENGTH, db_index=True, editable=False)
    name = models.CharField(_("name"), max_length=100)
    kind = models.CharField(_("type"), max_length=20, choices=CompoundKind.choices, default=CompoundKind.COMMODITY)
    address = models.CharField(_("address"), max_length=200, blank=True)
    built_year = models.PositiveSmallIntegerField(_("year built"), null=True, blank=True)
    has_property_manager = models.BooleanField(_("has a property manager"), default=False)
    property_manager = models.CharField(_("property manager"), max_length=100, blank=True)
    has_owners_committee = models.BooleanField(_("has an owners' committee"), default=False)
    has_self_management_committee = models.BooleanField(_("has a self-management committee"), default=False)
    grids = models.ManyToManyField(OrgNode, verbose_name=_("grids"), related_name="grid_compounds", blank=True)
    lng = models.FloatField(_("longitude"), null=True, blank=True)
    lat = models.FloatField(_("latitude"), null=True, blank=True)
    boundary = models.TextField(_("boundary"), blank=True, default="", help_text=BOUNDARY_HELP)

    class Meta:
        verbose_name = _("compound")
        verbose_name_plural = _("compounds")
        ordering = ["org_path", "name"]
        constraints = [models.UniqueConstraint(fields=["community", "name"], name="compound_unique_name")]

    def __str__(self):
        return self.name


class Building(models.Model):
    """A building (楼栋) of a compound; ``grid`` is the grid (or micro-grid) it is assigned to."""

    compound = models.ForeignKey(Compound, verbose_name=_("compound"), on_delete=models.PROTECT, related_name="buildings")
    grid = models.ForeignKey(OrgNode, verbose_name=_("grid"), on_delete=models.PROTECT, related_name="buildings")
    org_path = models.CharField(max_length=PATH_LENGTH, db_index=True, editable=False)
    name = models.CharField(_("name"), max_length=50, help_text=_("e.g. 3栋"))
    floors = models.PositiveSmallIntegerField(_("floors"), null=True, blank=True)
    steward = models.ForeignKey(
        "Resident", verbose_name=_("building steward"), null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        verbose_name = _("building")
        verbose_name_plural = _("buildings")
        ordering = ["compound_id", "name"]
        constraints = [models.UniqueConstraint(fields=["compound", "name"], name="building_unique_name")]

    def __str__(self):
        return f"{self.compound.name}{self.name}"


class Entrance(models.Model):
    """A staircase / unit (单元) of a building."""

    building = models.ForeignKey(Building, verbose_name=_("building"), on_delete=models.CASCADE, related_name="entrances")
    name = models.CharField(_("name"), max_length=30, help_text=_("e.g. 1单元"))

    class Meta:
        verbose_name = _("entrance")
        verbose_name_plural = _("entrances")
        ordering = ["building_id", "name"]
        constraints = [models.UniqueConstraint(fields=["building", "name"], name="entrance_unique_name")]

    def __str__(self):
        return self.name


class Household(models.Model):
    """A household (户): an address in exactly one grid (and at most one micro-grid of it), its members
    and its head. ``org_path`` is the micro-grid's path when it has one, else the grid's."""

    grid = models.ForeignKey(OrgNode, verbose_name=_("grid"), on_delete=models.PROTECT, related_name="households")
    micro_grid = models.ForeignKey(
        OrgNode, verbose_name=_("micro-grid"), null=True, blank=True, on_delete=models.PROTECT,
        related_name="micro_households",
    )
    org_path = models.CharField(max_length=PATH_LENGTH, db_index=True, editable=False)
    compound = models.ForeignKey(
        Compound, verbose_name=_("compound"), null=True, blank=True, on_delete=models.PROTECT, related_name="households"
    )
    building = models.ForeignKey(
        Building, verbose_name=_("building"), null=True, blank=True, on_delete=models.PROTECT, related_name="households"
    )
    entrance = models.ForeignKey(
        Entrance, verbose_name=_("entrance"), null=True, blank=True, on_delete=models.PROTECT, related_name="households"
    )
    room = models.CharField(_("room"), max_length=30, blank=True)
    address = models.CharField(_("address"), max_length=200, db_index=True)
    head = models.ForeignKey(
        "Resident", verbose_name=_("head of household"), null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("household")
        verbose_name_plural = _("households")
        ordering = ["address"]
        constraints = [models.UniqueConstraint(fields=["address"], name="household_unique_address")]

    def __str__(self):
        return self.address


class Gender(models.TextChoices):
    MALE = "M", _("Male")
    FEMALE = "F", _("Female")


class Relation(models.TextChoices):
    HEAD = "head", _("Head of household")
    SPOUSE = "spouse", _("Spouse")
    CHILD = "child", pgettext_lazy("relation to head", "Child")
    PARENT = "parent", pgettext_lazy("relation to head", "Parent")
    GRANDCHILD = "grandchild", _("Grandchild")
    GRANDPARENT = "grandparent", _("Grandparent")
    SIBLING = "sibling", _("Sibling")
    CHILD_IN_LAW = "child_in_law", _("Son- or daughter-in-law")
    TENANT = "tenant", _("Tenant")
    OTHER = "other", _("Other")


class ResidencyType(models.TextChoices):
    REGISTERED = "registered", _("Registered (户籍)")
    FLOATING = "floating", _("Floating (流动)")
    AWAY = "away", _("Registered but away (外出)")


class Resident(models.Model):
    """A person in the registry. ID number and phone are encrypted; a keyed hash finds them; a mask shows them."""

    household = models.ForeignKey(
        Household, verbose_name=_("household"), on_delete=models.PROTECT, related_name="members"
    )
    org_path = models.CharField(max_length=PATH_LENGTH, db_index=True, editable=False)
    grid = models.ForeignKey(OrgNode, verbose_name=_("grid"), on_delete=models.PROTECT, related_name="+")
    name = models.CharField(pgettext_lazy("person", "name"), max_length=50, db_index=True)
    name_initials = models.CharField(_("pinyin initials"), max_length=50, db_index=True, editable=False)
    gender = models.CharField(_("gender"), max_length=1, choices=Gender.choices)
    birth_date = models.DateField(_("birth date"))  # indexed with the place: resident_birth_path
    id_number_enc = models.TextField(editable=False, blank=True)
    id_number_hash = models.CharField(max_length=40, editable=False, blank=True, db_index=True)
    id_number_masked = models.CharField(_("ID number"), max_length=20, editable=False, blank=True)
    phone_enc = models.TextField(editable=False, blank=True)
    phone_hash = models.CharField(max_length=40, editable=False, blank=True, db_index=True)
    phone_masked = models.CharField(_("phone"), max_length=20, editable=False, blank=True)
    relation = models.CharField(_("relation to head"), max_length=16, choices=Relation.choices, default=Relation.OTHER)
    residency = models.CharField(
        _("residency type"), max_length=12, choices=ResidencyType.choices, default=ResidencyType.REGISTERED
    )
    ethnicity = models.CharField(_("ethnicity"), max_length=20, blank=True, default="汉族")
    is_party_member = models.BooleanField(_("party member"), default=False)
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, verbose_name=_("account"), null=True, blank=True, on_delete=models.SET_NULL,
        related_name="resident",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("resident")
        verbose_name_plural = _("residents")
        ordering = ["org_path", "household_id", "id"]
        indexes = [
            models.Index(fields=["org_path", "id"], name="resident_path_id"),
            # Pinyin initials from the start within an area: a range of the index, counted without the table.
            models.Index(fields=["name_initials", "org_path"], name="resident_initials_path",
                         opclasses=["varchar_pattern_ops", "varchar_ops"]),
            # One residency type (the floating population of a subdistrict) in the list's order.
            models.Index(fields=["residency", "org_path", "id"], name="resident_residency_path_id"),
            # An age range within an area (the list's age filter, its count; birthdays coming up): one range
            # of the index read with the place checked on its entries, not two bitmaps of the whole area and
            # of everyone that age.
            models.Index(fields=["birth_date", "org_path"], name="resident_birth_path"),
        ]

    def __str__(self):
        return self.name

    @property
    def age(self) -> int:
        today = timezone.localdate()
        b = self.birth_date
        return today.year - b.year - ((today.month, today.day) < (b.month, b.day))

    def reveal_id_number(self) -> str:
        """Plain ID number: call only through ``orgs.actions.resident_reveal``, which audits."""
        return decrypt(self.id_number_enc)

    def reveal_phone(self) -> str:
        return decrypt(self.phone_enc)

    @staticmethod
    def masks(id_number: str, phone: str) -> tuple[str, str]:
        return mask_id_number(id_number), mask_phone(phone)


class CareTag(models.Model):
    """A care-group tag on a resident (独居老人, 高龄, 低保 ...); ``org_path`` copied for scoped counts."""

    resident = models.ForeignKey(Resident, on_delete=models.CASCADE, related_name="care_tags")
    group = models.CharField(_("care group"), max_length=20, choices=CareGroup.choices)
    org_path = models.CharField(max_length=PATH_LENGTH, editable=False)
    since = models.DateField(_("since"), null=True, blank=True)
    note = models.CharField(_("note"), max_length=200, blank=True)

    class Meta:
        verbose_name = _("care-group tag")
        verbose_name_plural = _("care-group tags")
        constraints = [models.UniqueConstraint(fields=["resident", "group"], name="caretag_unique")]
        # A care group within an area, in the resident list's order (org_path, resident): a page of a
        # rare group (the veterans of a subdistrict) is a short range of this index.
        indexes = [models.Index(fields=["group", "org_path", "resident"], name="caretag_group_path_resident")]

    def __str__(self):
        return self.get_group_display()


class Relocation(models.Model):
    """History of moves: a household to another grid, a resident to another household, a grid split."""

    class Kind(models.TextChoices):
        HOUSEHOLD_GRID = "household_grid", _("Household moved to another grid")
        RESIDENT_HOUSEHOLD = "resident_household", _("Resident moved to another household")
        GRID_SPLIT = "grid_split", _("Grid split")
        NODE_MOVE = "node_move", _("Org node moved")

    kind = models.CharField(_("kind"), max_length=24, choices=Kind.choices)
    at = models.DateTimeField(_("time"), auto_now_add=True)
    by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    household = models.ForeignKey(Household, null=True, blank=True, on_delete=models.CASCADE, related_name="relocations")
    resident = models.ForeignKey(Resident, null=True, blank=True, on_delete=models.CASCADE, related_name="relocations")
    from_node = models.ForeignKey(OrgNode, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    to_node = models.ForeignKey(OrgNode, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    from_household = models.ForeignKey(Household, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    to_household = models.ForeignKey(Household, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    from_path = models.CharField(max_length=PATH_LENGTH, blank=True)
    to_path = models.CharField(max_length=PATH_LENGTH, blank=True)
    reason = models.CharField(_("reason"), max_length=200, blank=True)

    class Meta:
        verbose_name = _("relocation")
        verbose_name_plural = _("relocations")
        ordering = ["-at", "-id"]


class PartyOrgKind(models.TextChoices):
    JOINT_COMMITTEE = "joint_party_committee", _("Joint party committee")
    COMMITTEE = "party_committee", _("Party committee")
    BRANCH = "party_branch", _("Party branch")
    GROUP = "party_group", _("Party group")


class PartyOrganization(models.Model):
    """A party organisation attached to an org node: committees at community level, branches at grid
    or compound level, groups at building level."""

    name = models.CharField(_("name"), max_length=100)
    kind = models.CharField(_("kind"), max_length=24, choices=PartyOrgKind.choices)
    parent = models.ForeignKey(
        "self", verbose_name=_("parent organisation"), null=True, blank=True, on_delete=models.PROTECT, related_name="children"
    )
    node = models.ForeignKey(OrgNode, verbose_name=_("org node"), on_delete=models.PROTECT, related_name="party_orgs")
    org_path = models.CharField(max_length=PATH_LENGTH, db_index=True, editable=False)
    compound = models.ForeignKey(Compound, null=True, blank=True, on_delete=models.SET_NULL, related_name="party_orgs")
    building = models.ForeignKey(Building, null=True, blank=True, on_delete=models.SET_NULL, related_name="party_orgs")
    secretary = models.ForeignKey(
        "PartyMember", verbose_name=_("secretary"), null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        verbose_name = _("party organisation")
        verbose_name_plural = _("party organisations")
        ordering = ["org_path", "kind", "name"]

    def __str__(self):
        return self.name


class PartyMember(models.Model):
    """A party member; dual registration means an in-service member reports to the community they live in."""

    resident = models.OneToOneField(Resident, verbose_name=_("resident"), on_delete=models.PROTECT, related_name="party_member")
    organization = models.ForeignKey(
        PartyOrganization, verbose_name=_("party organisation"), on_delete=models.PROTECT, related_name="members"
    )
    assigned_node = models.ForeignKey(
        OrgNode, verbose_name=_("assigned grid / micro-grid"), on_delete=models.PROTECT, related_name="party_members"
    )
    org_path = models.CharField(max_length=PATH_LENGTH, db_index=True, editable=False)
    joined_on = models.DateField(_("joined the party"), null=True, blank=True)
    work_unit = models.CharField(_("work unit"), max_length=100, blank=True)
    in_service = models.BooleanField(_("in service"), default=False, help_text=_("Works in an organ or enterprise"))
    dual_registered = models.BooleanField(_("dual registration"), default=False)
    dual_registered_on = models.DateField(_("reported on"), null=True, blank=True)

    class Meta:
        verbose_name = _("party member")
        verbose_name_plural = _("party members")
        ordering = ["org_path", "id"]

    def __str__(self):
        return self.resident.name


class UnitKind(models.TextChoices):
    PARTNER = "partner_unit", _("Partner unit")
    DEPARTMENT = "department", _("Department")


class Unit(models.Model):
    """A partner unit (包保/共建单位) or a functional department (职能部门) and the nodes it serves.

    ``home`` is the node the unit belongs to (usually the county); ``org_path`` is the home's path.
    """

    name = models.CharField(_("name"), max_length=100)
    kind = models.CharField(_("kind"), max_length=16, choices=UnitKind.choices)
    home = models.ForeignKey(OrgNode, verbose_name=_("belongs to"), on_delete=models.PROTECT, related_name="home_units")
    org_path = models.CharField(max_length=PATH_LENGTH, db_index=True, editable=False)
    contact_name = models.CharField(_("contact person"), max_length=50, blank=True)
    contact_phone_enc = models.TextField(editable=False, blank=True)
    contact_phone_masked = models.CharField(_("contact phone"), max_length=20, editable=False, blank=True)
    served_nodes = models.ManyToManyField(
        OrgNode, verbose_name=_("nodes served"), through="UnitService", related_name="serving_units", blank=True
    )

    class Meta:
        verbose_name = _("unit")
        verbose_name_plural = _("units")
        ordering = ["kind", "name"]
        constraints = [models.UniqueConstraint(fields=["kind", "name"], name="unit_unique_name")]

    def __str__(self):
        return self.name


class UnitService(models.Model):
    """A unit attached to a node it serves (a partner unit to a community or grid, a department to a subdistrict)."""

    unit = models.ForeignKey(Unit, on_delete=models.CASCADE, related_name="services")
    node = models.ForeignKey(OrgNode, on_delete=models.CASCADE, related_name="unit_services")
    org_path = models.CharField(max_length=PATH_LENGTH, db_index=True, editable=False)
    since = models.DateField(_("since"), null=True, blank=True)

    class Meta:
        verbose_name = _("unit service")
        verbose_name_plural = _("unit services")
        constraints = [models.UniqueConstraint(fields=["unit", "node"], name="unitservice_unique")]
