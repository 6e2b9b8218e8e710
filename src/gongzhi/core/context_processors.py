"""Template context every page needs: the user's roles and what the navigation may show."""

from gongzhi.accounts.roles import Perm


def gongzhi(request):
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {"nav": {}}
    return {
        "nav": {
            "workbench": user.can(Perm.WORKBENCH),
            "registry": user.can(Perm.REGISTRY_VIEW),
            "import": user.can(Perm.REGISTRY_EDIT),
            "audit": user.can(Perm.AUDIT_VIEW),
            "party": user.can(Perm.PARTY_VIEW),
            "units": user.can(Perm.UNITS_VIEW),
            "users": user.can(Perm.USERS_MANAGE) or user.is_superuser,
        }
    }
