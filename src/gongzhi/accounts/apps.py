from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AccountsConfig(AppConfig):
    name = "gongzhi.accounts"
    label = "accounts"
    verbose_name = _("Accounts")

    def ready(self):
        from gongzhi.core import parts

        parts.demo_part("accounts", "gongzhi.accounts.demo.load_demo", order=20)

        # The session's user is cached with their roles (backends.get_user): drop it when any of it changes.
        from django.db.models.signals import post_delete, post_save

        from gongzhi.orgs.models import OrgNode, Unit
        from gongzhi.orgs.signals import tree_moved

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


def _forget(sender, instance, **kwargs):
    from django.db import transaction

    from .backends import forget_user

    user_id = instance.pk if sender.__name__ == "User" else instance.user_id
    forget_user(user_id)
    # Once more after the commit: a page reading the user in between must not keep the old copy.
    transaction.on_commit(lambda: forget_user(user_id))
