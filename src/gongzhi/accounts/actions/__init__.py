"""Account writes, one module per area: ``account`` (tokens, roles, passwords, login locks). Each is atomic and
audited; the package re-exports them so callers write ``accounts.actions.token_create``."""

from .account import DEFAULT_DAYS, login_address_unlock, login_lock_lift, password_change, role_assign  # noqa: F401
from .account import token_create, token_expiry, token_revoke, token_user  # noqa: F401
