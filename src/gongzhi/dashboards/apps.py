import datetime as dt

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class DashboardsConfig(AppConfig):
    name = "gongzhi.dashboards"
    label = "dashboards"
    verbose_name = _("Dashboards and ledgers")

    def ready(self):
        from gongzhi.appeals import events
        from gongzhi.core import audit, parts, scheduler
        from gongzhi.orgs.signals import tree_moved

        from . import rollups

        # Every action queues its appeal for the roll-ups in its own transaction; rollups.catch_up applies them.
        events.listen(rollups.on_appeal_changed, in_transaction=True)
        # A node move rewrites the appeals' paths; the roll-ups follow by a rebuild on the worker.
        tree_moved.connect(_rebuild_after_move, dispatch_uid="dashboards-rebuild-after-move")
        audit.describe("appeals.ledger.export", _("Appeals ledger exported"))
        # The worker keeps the roll-ups current: queued changes are applied within a tick.
        parts.demo_part("rollups", "gongzhi.dashboards.demo.load_demo", order=40)
        scheduler.register("rollups_catch_up", "gongzhi.dashboards.tasks.rollups_catch_up",
                           every=dt.timedelta(seconds=scheduler.TICK_SECONDS), needed="gongzhi.dashboards.rollups.pending_at")


def _rebuild_after_move(sender, **kwargs):
    from .tasks import rollups_rebuild

    rollups_rebuild.enqueue()
