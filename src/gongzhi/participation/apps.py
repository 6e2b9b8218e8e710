from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ParticipationConfig(AppConfig):
    name = "gongzhi.participation"
    label = "participation"
    verbose_name = _("Participation")

    def ready(self):
        from . import permissions  # noqa: F401  (declares this app's permissions and grants)
        from gongzhi.core import audit, parts

        for code, label in AUDIT_ACTIONS.items():
            audit.describe(code, label)
        parts.demo_part("participation", "gongzhi.participation.demo.load_demo", order=35)


# The audit actions this app records, in the words of the audit log.
AUDIT_ACTIONS = {
    "wish.collect": _("Micro-wish taken down"),
    "wish.verify": _("Micro-wish verified"),
    "wish.publish": _("Micro-wish published"),
    "wish.reject": _("Micro-wish turned down"),
    "wish.claim": _("Micro-wish claimed"),
    "wish.release": _("Micro-wish handed back"),
    "wish.fulfil": _("Micro-wish fulfilled"),
    "wish.thank": _("Thanks for a micro-wish"),
    "service.create": _("Service added to the service list"),
    "service.update": _("Service list item changed"),
    "order.order": _("Service ordered"),
    "order.dispatch": _("Service order dispatched"),
    "order.open": _("Service order opened for taking"),
    "order.take": _("Service order taken"),
    "order.complete": _("Service order done"),
    "order.rate": _("Service order rated"),
    "order.cancel": _("Service order cancelled"),
    "participation.demo_history": _("Demo service orders generated"),
    "dual.register": _("Party member reported to a community"),
    "dual.confirm": _("Dual registration confirmed"),
    "dual.decline": _("Dual registration declined"),
}
