from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AppealsConfig(AppConfig):
    name = "gongzhi.appeals"
    label = "appeals"
    verbose_name = _("Appeals")

    def ready(self):
        from . import permissions  # noqa: F401  (declares this app's permissions and grants)
        from gongzhi.core import process_cache

        from .models import Category

        process_cache.clear_on(Category)
