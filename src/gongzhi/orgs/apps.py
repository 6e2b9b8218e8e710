import datetime as dt

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy


class OrgsConfig(AppConfig):
    name = "gongzhi.orgs"
    label = "orgs"
    verbose_name = _("Organisation and registry")

    def ready(self):
        from . import permissions  # noqa: F401  (declares this app's permissions and grants)
        from gongzhi.core import audit, parts, process_cache, scheduler

        for code, label in AUDIT_ACTIONS.items():
            audit.describe(code, label, changes=AUDIT_CHANGES.get(code))

        from .models import Compound, OrgNode, Unit, UnitService
        from .signals import tree_moved

        process_cache.clear_on(OrgNode, Compound, Unit, UnitService)  # Compound: the map outlines
        parts.demo_part("county", "gongzhi.orgs.demo.load_demo", order=10)
        parts.setup_step("tree", _("Org tree: townships, communities and grids"),
                         "gongzhi.orgs.setup.checklist.setup_tree", order=10)
        parts.setup_step("places", _("Places: compounds and buildings"), "gongzhi.orgs.setup.checklist.setup_places",
                         order=20)
        parts.setup_step("residents", _("Households and residents"), "gongzhi.orgs.setup.checklist.setup_residents",
                         order=40)
        # Stale import jobs failed, and uploads of finished ones removed.
        scheduler.register("import_cleanup", "gongzhi.orgs.tasks.import_cleanup", every=dt.timedelta(hours=1),
                           needed="gongzhi.orgs.imports.cleanup_due")
        tree_moved.connect(process_cache.clear, dispatch_uid="process-cache-tree-moved", weak=False)


# The audit actions this app records, in the words of the audit log.
AUDIT_ACTIONS = {
    "orgnode.create": _("Org node created"),
    "orgnode.move": _("Org node moved"),
    "orgnode.boundary": _("Org node outline set"),
    "compound.boundary": _("Compound outline set"),
    "grid.split": _("Grid split"),
    "household.create": _("Household created"),
    "household.update": _("Household changed"),
    "household.move": _("Household moved to another grid"),
    "resident.create": _("Resident created"),
    "resident.update": _("Resident changed"),
    "resident.move": _("Resident moved to another household"),
    "pii.reveal.phone": _("Full phone number viewed"),
    "pii.reveal.id_number": _("Full ID number viewed"),
    "pii.reveal.export": _("Registry exported with full personal data"),
    "registry.export": _("Registry exported"),
    "registry.import": _("Registry imported"),
    "party_org.create": _("Party organisation created"),
    "orgnode.code": _("Org node code set"),
    "county.setup": _("County set up from the division codes"),
    "places.import": _("Places imported"),
    "compound.create": _("Compound created"),
    "building.create": _("Building created"),
    "entrance.create": _("Entrance created"),
}
_IMPORTED = {"import_job": pgettext_lazy("audit change", "Import job")}
_OUTLINE = {"vertices": pgettext_lazy("audit change", "Outline points")}
# The words of change keys that are not fields of the recorded object.
AUDIT_CHANGES = {
    "grid.split": {"new_grid": pgettext_lazy("audit change", "New grid"),
                   "households": pgettext_lazy("audit change", "Households moved")},
    "pii.reveal.phone": {"field": pgettext_lazy("audit change", "Field")},
    "pii.reveal.id_number": {"field": pgettext_lazy("audit change", "Field")},
    "orgnode.boundary": _OUTLINE,
    "compound.boundary": _OUTLINE,
    "resident.create": _IMPORTED,
    "resident.update": _IMPORTED,
    "household.create": _IMPORTED,
    "household.update": _IMPORTED,
    "orgnode.code": _IMPORTED,
    "compound.create": _IMPORTED,
    "building.create": _IMPORTED,
    "entrance.create": _IMPORTED,
    "county.setup": {
        "started": pgettext_lazy("audit change", "New tree"),
        "created": pgettext_lazy("audit change", "Townships added"),
        "coded": pgettext_lazy("audit change", "Codes given"),
        "unchanged": pgettext_lazy("audit change", "Townships already there"),
    },
    "places.import": {
        "import_job": pgettext_lazy("audit change", "Import job"),
        "rows": pgettext_lazy("audit change", "Rows"),
        "created": pgettext_lazy("audit change", "Places added"),
        "coded": pgettext_lazy("audit change", "Codes given"),
        "unchanged": pgettext_lazy("audit change", "Places already there"),
    },
    "registry.import": {
        "rows": pgettext_lazy("audit change", "Rows"),
        "errors": pgettext_lazy("audit change", "Rows with errors"),
        "created": pgettext_lazy("audit change", "Residents created"),
        "updated": pgettext_lazy("audit change", "Residents changed"),
        "unchanged": pgettext_lazy("audit change", "Residents unchanged"),
        "households_created": pgettext_lazy("audit change", "Households created"),
        "households_updated": pgettext_lazy("audit change", "Households changed"),
        "entrances_created": pgettext_lazy("audit change", "Entrances created"),
    },
}
