import datetime as dt

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AppealsConfig(AppConfig):
    name = "gongzhi.appeals"
    label = "appeals"
    verbose_name = _("Appeals")

    def ready(self):
        from . import permissions  # noqa: F401  (declares this app's permissions and grants)
        from gongzhi.core import parts, process_cache, scheduler

        from .models import Category

        process_cache.clear_on(Category)
        parts.demo_part("appeals", "gongzhi.appeals.demo.load_demo", order=30)
        scheduler.register("deadline_sweep", "gongzhi.appeals.tasks.deadline_sweep",
                           every=lambda: dt.timedelta(minutes=scheduler.sweep_minutes()))
