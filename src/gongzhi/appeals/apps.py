import datetime as dt

from django.apps import AppConfig
from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy


class AppealsConfig(AppConfig):
    name = "gongzhi.appeals"
    label = "appeals"
    verbose_name = _("Appeals")

    def ready(self):
        from . import permissions  # noqa: F401  (declares this app's permissions and grants)
        from gongzhi.core import audit, parts, process_cache, scheduler

        from .actions import ACTION_LABELS

        for step, label in {**ACTION_LABELS, "follow": _("followed")}.items():
            audit.describe(f"appeal.{step}", format_lazy(_("Appeal {step}"), step=label), changes=_STEP_CHANGES)
        for code, label in AUDIT_ACTIONS.items():
            audit.describe(code, label, changes=AUDIT_CHANGES.get(code))

        from .models import Category

        process_cache.clear_on(Category)
        parts.demo_part("appeals", "gongzhi.appeals.demo.load_demo", order=30)
        parts.setup_step("routing", _("Appeal categories and routing"), "gongzhi.appeals.selectors.setup_routing",
                         order=50)
        parts.setup_step("calendar", _("Working-day calendar"), "gongzhi.appeals.selectors.setup_calendar", order=60)
        parts.open_work("appeals", "gongzhi.appeals.selectors.open_work_of")
        scheduler.register("deadline_sweep", "gongzhi.appeals.tasks.deadline_sweep",
                           every=lambda: dt.timedelta(minutes=scheduler.sweep_minutes()))


# The audit actions of the appeals' settings and Open311, in the words of the audit log (the steps of an
# appeal's life are named after ``actions.ACTION_LABELS``).
AUDIT_ACTIONS = {
    "appeals.category_create": _("Appeal category created"),
    "appeals.category_update": _("Appeal category changed"),
    "appeals.policy_create": _("Deadline policy created"),
    "appeals.policy_update": _("Deadline policy changed"),
    "appeals.routing_create": _("Routing rule created"),
    "appeals.routing_update": _("Routing rule changed"),
    "appeals.routing_delete": _("Routing rule deleted"),
    "appeals.demo_history": _("Demo appeals generated"),
    "open311.client_create": _("Open311 client created"),
    "open311.client_revoke": _("Open311 client revoked"),
    "open311.request_file": _("Appeal filed through Open311"),
}

# The words of change keys that are not fields of the recorded object.
_STEP_CHANGES = {
    "handler": pgettext_lazy("audit change", "Handled by"),
    "into": pgettext_lazy("audit change", "Merged into"),
    "approved": pgettext_lazy("audit change", "Approved"),
    "days": pgettext_lazy("audit change", "Days asked for"),
    "note": pgettext_lazy("audit change", "Note"),
    "result": pgettext_lazy("audit change", "Result"),
    "resolved": pgettext_lazy("audit change", "Resolved"),
}
AUDIT_CHANGES = {
    "appeals.demo_history": {
        "seed": pgettext_lazy("audit change", "Seed"),
        "months": pgettext_lazy("audit change", "Months"),
        "scale": pgettext_lazy("audit change", "Scale"),
        "appeals": pgettext_lazy("audit change", "Appeals"),
        "events": pgettext_lazy("audit change", "Timeline steps"),
        "requests": pgettext_lazy("audit change", "Extension and void requests"),
        "followers": pgettext_lazy("audit change", "Followers"),
        "staff_accounts": pgettext_lazy("audit change", "Staff accounts"),
        "resident_accounts": pgettext_lazy("audit change", "Resident accounts"),
    },
    "open311.request_file": {"client": pgettext_lazy("audit change", "Client"),
                             "account_id": pgettext_lazy("audit change", "Account at the client")},
}
