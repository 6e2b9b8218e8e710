from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class DashboardsConfig(AppConfig):
    name = "gongzhi.dashboards"
    label = "dashboards"
    verbose_name = _("Dashboards and ledgers")

    def ready(self):
        from gongzhi.appeals import events

        from . import rollups

        # Keep the appeal roll-ups in step with every action, after it commits.
        events.listen(rollups.on_appeal_changed)
