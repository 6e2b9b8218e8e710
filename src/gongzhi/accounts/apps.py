from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AccountsConfig(AppConfig):
    name = "gongzhi.accounts"
    label = "accounts"
    verbose_name = _("Accounts")

    def ready(self):
        from gongzhi.core import parts

        parts.demo_part("accounts", "gongzhi.accounts.demo.load_demo", order=20)
