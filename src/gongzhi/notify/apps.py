import datetime as dt

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class NotifyConfig(AppConfig):
    name = "gongzhi.notify"
    label = "notify"
    verbose_name = _("Notifications")

    def ready(self):
        from gongzhi.appeals import events
        from gongzhi.core import audit, parts, scheduler

        audit.describe("webhook.create", _("Group robot created"))
        audit.describe("webhook.update", _("Group robot changed"))
        audit.describe("webhook.test", _("Group robot tested"))
        parts.setup_step("robots", _("Group robots"), "gongzhi.notify.selectors.setup_robots", order=70)

        from . import tasks

        events.listen(tasks.on_appeal_changed, in_transaction=True)
        events.listen_batch(tasks.on_appeals_changed)
        scheduler.register("outbox_retries", "gongzhi.notify.tasks.send_due_deliveries", every=dt.timedelta(seconds=30),
                           needed="gongzhi.notify.tasks.deliveries_due")
