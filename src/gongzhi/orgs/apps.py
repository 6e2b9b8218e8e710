import datetime as dt

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class OrgsConfig(AppConfig):
    name = "gongzhi.orgs"
    label = "orgs"
    verbose_name = _("Organisation and registry")

    def ready(self):
        from . import permissions  # noqa: F401  (declares this app's permissions and grants)
        from gongzhi.core import parts, process_cache, scheduler

        from .models import OrgNode, Unit, UnitService
        from .signals import tree_moved

        process_cache.clear_on(OrgNode, Unit, UnitService)
        parts.demo_part("county", "gongzhi.orgs.demo.load_demo", order=10)
        # Stale import jobs failed, and uploads of finished ones removed.
        scheduler.register("import_cleanup", "gongzhi.orgs.tasks.import_cleanup", every=dt.timedelta(hours=1),
                           needed="gongzhi.orgs.imports.cleanup_due")
        tree_moved.connect(process_cache.clear, dispatch_uid="process-cache-tree-moved", weak=False)
