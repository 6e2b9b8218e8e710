from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AccountsConfig(AppConfig):
    name = "gongzhi.accounts"
    label = "accounts"
    verbose_name = _("Accounts")

    def ready(self):
        from gongzhi.core import audit

        for code, label in AUDIT_ACTIONS.items():
            audit.describe(code, label)


# The audit actions this app records, in the words of the audit log.
AUDIT_ACTIONS = {
    "role.assign": _("Role assigned"),
    "token.create": _("API token created"),
    "token.revoke": _("API token revoked"),
    "user.create_admin": _("Administrator created"),
}
