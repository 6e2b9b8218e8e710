from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class NotifyConfig(AppConfig):
    name = "gongzhi.notify"
    label = "notify"
    verbose_name = _("Notifications")

    def ready(self):
        from gongzhi.appeals import events

        from . import tasks

        events.listen(tasks.on_appeal_changed, in_transaction=True)
        events.listen_batch(tasks.on_appeals_changed)
