"""Account pages, one module per area: ``account`` (login, the account page, tokens, login locks), ``users``
(staff accounts and roles, the roster, activation, party members' accounts)."""

from .account import LoginView, lock_lift, locks, me, password_change, token_admin, token_revoke, tokens  # noqa: F401
from .users import activate, party_member_account, roster_codes, roster_export, roster_index  # noqa: F401
from .users import roster_job, roster_job_errors, roster_job_progress, roster_template, roster_upload  # noqa: F401
from .users import user_detail, user_disable, user_enable, user_list, user_new, user_password_reset  # noqa: F401
from .users import user_role_assign, user_role_withdraw  # noqa: F401
