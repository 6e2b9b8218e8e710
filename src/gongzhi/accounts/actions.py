"""Account writes: API tokens, role assignments. Each is atomic and audited."""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone

from gongzhi.core import audit

from .models import ApiToken, RoleAssignment, User


@transaction.atomic
def token_create(*, user: User, name: str) -> tuple[ApiToken, str]:
    """Make a token; the raw value is returned once and never stored."""
    raw = ApiToken.new_raw()
    token = ApiToken.objects.create(user=user, name=name[:100], prefix=raw[3:11], key_hash=ApiToken.hash_of(raw))
    audit.record(actor=user, action="token.create", obj=token, changes={"name": name})
    return token, raw


@transaction.atomic
def token_revoke(*, token: ApiToken, by: User) -> ApiToken:
    if token.revoked_at is None:
        token.revoked_at = timezone.now()
        token.save(update_fields=["revoked_at"])
        audit.record(actor=by, action="token.revoke", obj=token)
    return token


@transaction.atomic
def role_assign(*, user: User, role: str, node, by: User | None = None, unit=None) -> RoleAssignment:
    assignment, created = RoleAssignment.objects.get_or_create(
        user=user, role=role, node=node, defaults={"org_path": node.path, "unit": unit}
    )
    if not created and not assignment.is_active:
        assignment.is_active = True
        assignment.save(update_fields=["is_active"])
    audit.record(
        actor=by, action="role.assign", obj=assignment, org_path=node.path,
        changes={"user": user.username, "role": role, "node": str(node)},
    )
    return assignment


def token_user(raw: str) -> User | None:
    """The active user behind a bearer token, or None."""
    if not raw:
        return None
    token = ApiToken.objects.select_related("user").filter(key_hash=ApiToken.hash_of(raw), revoked_at=None).first()
    if token is None or not token.user.is_active:
        return None
    token.touch()
    return token.user
