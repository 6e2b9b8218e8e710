from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy


class CoreConfig(AppConfig):
    name = "gongzhi.core"
    label = "core"
    verbose_name = _("Core")

    def ready(self):
        from . import audit

        for code, label in AUDIT_ACTIONS.items():
            audit.describe(code, label, changes=AUDIT_CHANGES.get(code))


# The audit actions core records, in the words of the audit log.
AUDIT_ACTIONS = {
    "calendar.day_set": _("Working day set"),
    "calendar.day_clear": _("Working day setting removed"),
    "calendar.year_confirm": _("Holiday schedule confirmed"),
    "demo.load": _("Demo data generated"),
    "demo.accounts": _("Demo accounts created"),
}

_DEMO_COUNTS = {
    "seed": pgettext_lazy("audit change", "Seed"),
    "scale": pgettext_lazy("audit change", "Scale"),
    "subdistricts": pgettext_lazy("audit change", "Subdistricts"),
    "communities": pgettext_lazy("audit change", "Communities"),
    "grids": pgettext_lazy("audit change", "Grids"),
    "micro_grids": pgettext_lazy("audit change", "Micro-grids"),
    "compounds": pgettext_lazy("audit change", "Compounds"),
    "buildings": pgettext_lazy("audit change", "Buildings"),
    "entrances": pgettext_lazy("audit change", "Entrances"),
    "households": pgettext_lazy("audit change", "Households"),
    "residents": pgettext_lazy("audit change", "Residents"),
    "care_tags": pgettext_lazy("audit change", "Care-group tags"),
    "party_organizations": pgettext_lazy("audit change", "Party organisations"),
    "party_members": pgettext_lazy("audit change", "Party members"),
    "partner_units": pgettext_lazy("audit change", "Partner units"),
    "departments": pgettext_lazy("audit change", "Departments"),
}
# The words of change keys that are not fields of the recorded object.
AUDIT_CHANGES = {
    "demo.load": _DEMO_COUNTS,
    "demo.accounts": {"created": pgettext_lazy("audit change", "Accounts created")},
}
