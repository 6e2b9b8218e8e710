"""Account pages, one module per area: ``account`` (login, the account page, tokens, login locks)."""

from .account import LoginView, lock_lift, locks, me, password_change, token_admin, token_revoke, tokens  # noqa: F401
