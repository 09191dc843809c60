"""Who may sign in and call the token API: console users and API tokens."""

from app.services.accounts.api_tokens import (
    MAX_NAME_LENGTH,
    authenticate_token,
    create_token,
    list_tokens,
    revoke_token,
)
from app.services.accounts.sessions import (
    end_console_session,
    load_console_user,
    start_console_session,
)
from app.services.accounts.throttle import (
    SignInLock,
    purge_login_throttles,
    sign_in_locks,
    unlock_sign_in,
)
from app.services.accounts.users import (
    MIN_PASSWORD_LENGTH,
    active_user,
    authenticate_user,
    change_own_password,
    create_or_reset_user,
    create_user,
    find_user,
    list_users,
    load_user,
    set_password,
    update_user,
)

__all__ = [
    "MAX_NAME_LENGTH",
    "MIN_PASSWORD_LENGTH",
    "SignInLock",
    "active_user",
    "authenticate_token",
    "authenticate_user",
    "change_own_password",
    "create_or_reset_user",
    "create_token",
    "create_user",
    "end_console_session",
    "find_user",
    "list_tokens",
    "list_users",
    "load_console_user",
    "load_user",
    "purge_login_throttles",
    "revoke_token",
    "set_password",
    "sign_in_locks",
    "start_console_session",
    "unlock_sign_in",
    "update_user",
]
