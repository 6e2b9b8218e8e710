"""Account writes, one module per area: ``account`` (tokens, passwords, login locks), ``users`` (staff accounts,
roles, resets, disabling, activation codes, party members' accounts), ``roster`` (the staff roster import and
export). Each is atomic and audited; the package re-exports them so callers write ``accounts.actions.token_create``."""

from .account import DEFAULT_DAYS, login_address_unlock, login_lock_lift, password_change  # noqa: F401
from .account import token_create, token_expiry, token_revoke, token_user  # noqa: F401
from .users import account_activate, activation_codes, check_new_password, mobile_number  # noqa: F401
from .users import needs_activation, one_time_password, party_member_account, password_reset  # noqa: F401
from .users import role_assign, role_move, role_withdraw, user_create, user_disable, user_enable  # noqa: F401
