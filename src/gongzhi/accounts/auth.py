"""API authentication by bearer token (the login session is core's ``SessionCookie``).

A token's check is kept in the shared cache for ``TOKEN_CACHE_SECONDS`` (which token, whose, until when) and its
user comes from the session users' cache (``backends.ThrottledBackend.get_user``), so a script's request pays
no database round trip for either. Revoking a token drops the cached check (``forget_token``, wired in
``apps.py``); any change to its user (a reset, disabling, a role: ``backends.forget_user``) marks the user
changed, and a check kept from before is made again in full, so a revocation written in bulk (a password reset
revokes every token of the account) or a password that must be changed first is refused at the next request.
An expiry is checked on every request against the kept time."""

from django.core.cache import cache
from django.utils import timezone
from ninja.security import HttpBearer

TOKEN_CACHE_SECONDS = 300
TOUCH_SECONDS = 60  # ``last_used_at`` is written at most this often per token


def _key(digest: str) -> str:
    return f"accounts:token:{digest}"


def forget_token(key_hash: str) -> None:
    cache.delete(_key(key_hash))


class BearerToken(HttpBearer):
    """``Authorization: Bearer <token>`` for scripts and mobile clients; tokens come from ``POST /auth/token``."""

    def authenticate(self, request, token):
        from .actions import token_user
        from .backends import ThrottledBackend, generation_key
        from .models import ApiToken

        if not token:
            return None
        digest = ApiToken.hash_of(token)
        kept = cache.get(_key(digest))
        if kept is not None:
            token_id, user_id, expires_at, generation = kept
            if cache.get(generation_key(user_id)) == generation and (expires_at is None or expires_at > timezone.now()):
                user = ThrottledBackend().get_user(user_id)
                if user is not None:
                    if cache.add(f"accounts:token-used:{token_id}", 1, TOUCH_SECONDS):
                        ApiToken.objects.filter(pk=token_id).update(last_used_at=timezone.now())
                    return user
        user = token_user(token)  # the whole check, which says why a revoked or expired token is refused
        if user is not None:
            row = ApiToken.objects.filter(key_hash=digest).values_list("pk", "user_id", "expires_at").first()
            if row is not None:
                cache.set(_key(digest), (*row, cache.get(generation_key(row[1]))), TOKEN_CACHE_SECONDS)
                cache.add(f"accounts:token-used:{row[0]}", 1, TOUCH_SECONDS)
            user = ThrottledBackend().get_user(user.pk) or user
        return user
