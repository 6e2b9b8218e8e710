from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy


class AccountsConfig(AppConfig):
    name = "gongzhi.accounts"
    label = "accounts"
    verbose_name = _("Accounts")

    def ready(self):
        from gongzhi.core import audit, parts

        parts.demo_part("accounts", "gongzhi.accounts.demo.load_demo", order=20)
        parts.setup_step("staff", _("Staff accounts and roles"), "gongzhi.accounts.selectors.setup_staff", order=30)
        for code, label in AUDIT_ACTIONS.items():
            audit.describe(code, label, changes=AUDIT_CHANGES.get(code))
        for code, label in JOIN_AUDIT_ACTIONS.items():
            audit.describe(code, label, changes=JOIN_AUDIT_CHANGES)
        parts.demo_part("joining", "gongzhi.accounts.demo_join.load_demo", order=25)
        parts.bench_suite("accounts", "gongzhi.accounts.bench")

        # The session's user is cached with their roles (backends.get_user): drop it when any of it changes.
        from django.db.models.signals import post_delete, post_save

        from gongzhi.orgs.models import OrgNode, Unit
        from gongzhi.orgs.signals import tree_moved, tree_started

        from .backends import forget_all_users
        from .models import RoleAssignment, User

        for model in (User, RoleAssignment):
            post_save.connect(_forget, sender=model, dispatch_uid=f"forget-user-{model.__name__}", weak=False)
            post_delete.connect(_forget, sender=model, dispatch_uid=f"forget-user-del-{model.__name__}", weak=False)
        for model in (OrgNode, Unit):
            post_save.connect(forget_all_users, sender=model, dispatch_uid=f"forget-users-{model.__name__}", weak=False)
            post_delete.connect(forget_all_users, sender=model, dispatch_uid=f"forget-users-del-{model.__name__}",
                                weak=False)
        tree_moved.connect(forget_all_users, dispatch_uid="forget-users-tree-moved", weak=False)
        tree_started.connect(_grant_starter, dispatch_uid="grant-tree-starter", weak=False)

        # A bearer token's check is cached too (auth.BearerToken): drop it when the token changes (revoked).
        from .models import ApiToken

        post_save.connect(_forget_token, sender=ApiToken, dispatch_uid="forget-token", weak=False)
        post_delete.connect(_forget_token, sender=ApiToken, dispatch_uid="forget-token-del", weak=False)


def _grant_starter(sender, node, by, **kwargs):
    """The superuser who starts a county on the set-up page administers it (as ``gongzhi createadmin`` makes an
    administrator of every tree there is), in the same transaction, so they can go on setting it up."""
    from gongzhi.core.access import Role

    from .actions import role_assign

    role_assign(user=by, role=Role.COUNTY_ADMIN, node=node, by=by)
    by.__dict__.pop("active_assignments", None)  # the roles cached on this request's user


def _forget(sender, instance, **kwargs):
    from django.db import transaction

    from .backends import forget_user

    user_id = instance.pk if sender.__name__ == "User" else instance.user_id
    forget_user(user_id)
    # Once more after the commit: a page reading the user in between must not keep the old copy.
    transaction.on_commit(lambda: forget_user(user_id))


def _forget_token(sender, instance, **kwargs):
    from django.db import transaction

    from .auth import forget_token

    forget_token(instance.key_hash)
    transaction.on_commit(lambda: forget_token(instance.key_hash))


# The audit actions this app records, in the words of the audit log.
AUDIT_ACTIONS = {
    "role.assign": _("Role assigned"),
    "token.create": _("API token created"),
    "token.revoke": _("API token revoked"),
    "login.unlock": _("Login lock lifted"),
    "login.unlock_address": _("Address login lock lifted"),
    "user.password_change": _("Password changed"),
    "user.create_admin": _("Administrator created"),
    "role.withdraw": _("Role withdrawn"),
    "user.create": _("Account created"),
    "user.password_reset": _("Password reset"),
    "user.disable": _("Account disabled"),
    "user.enable": _("Account enabled"),
    "user.activate": _("Account activated"),
    "user.activation_codes": _("Activation codes made"),
    "user.roster_export": _("Staff roster exported"),
    "party_member.account_create": _("Party member's account created"),
    "party_member.account_link": _("Party member's account linked"),
}

# The words of change keys that are not fields of the recorded object.
AUDIT_CHANGES = {
    "role.assign": {"import": pgettext_lazy("audit change", "Import")},
    "user.create": {"import": pgettext_lazy("audit change", "Import")},
    "user.password_reset": {"tokens_revoked": pgettext_lazy("audit change", "API tokens revoked")},
    "user.disable": {"open_work": pgettext_lazy("audit change", "Open work")},
    "user.activation_codes": {"accounts": pgettext_lazy("audit change", "Accounts")},
    "user.roster_export": {"rows": pgettext_lazy("audit change", "Rows")},
    "party_member.account_create": {"resident": pgettext_lazy("audit change", "Resident")},
    "party_member.account_link": {"resident": pgettext_lazy("audit change", "Resident")},
}


# Joining by real name (``actions.join``).
JOIN_AUDIT_ACTIONS = {
    "join.code_create": _("Join code made"),
    "join.code_revoke": _("Join code revoked"),
    "join.active": _("Joined with a code (matched)"),
    "join.request": _("Asked to join"),
    "join.approve": _("Join request approved"),
    "join.reject": _("Join request rejected"),
    "join.unlink": _("Account unlinked from a resident (moved out)"),
}
JOIN_AUDIT_CHANGES = {
    "for": pgettext_lazy("audit change", "For"),
    "with_code": pgettext_lazy("audit change", "With a code"),
    "user": pgettext_lazy("audit change", "Account"),
}
