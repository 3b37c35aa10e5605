"""Write services of the brokers app, one module per concern: broker accounts (accounts.py), API keys
(keys.py), admin accounts and logins (admins.py). Callers import them from here."""

from tradeline.brokers.services.accounts import (
    BROKER_ADMIN_FIELDS,
    BROKER_SELF_FIELDS,
    broker_admin_update,
    broker_approve,
    broker_authenticate,
    broker_create,
    broker_deactivate,
    broker_onboard,
    broker_set_password,
    broker_set_share,
    broker_suspend,
    broker_update_settings,
    clean_share,
)
from tradeline.brokers.services.admins import (
    LOGIN_SCOPE,
    AdminLogin,
    admin_create,
    admin_login,
    admin_login_second_step,
    admin_logout,
)
from tradeline.brokers.services.keys import broker_key_revoke, broker_keys_rotate

__all__ = [
    "BROKER_ADMIN_FIELDS",
    "BROKER_SELF_FIELDS",
    "LOGIN_SCOPE",
    "AdminLogin",
    "admin_create",
    "admin_login",
    "admin_login_second_step",
    "admin_logout",
    "broker_admin_update",
    "broker_approve",
    "broker_authenticate",
    "broker_create",
    "broker_deactivate",
    "broker_key_revoke",
    "broker_keys_rotate",
    "broker_onboard",
    "broker_set_password",
    "broker_set_share",
    "broker_suspend",
    "broker_update_settings",
    "clean_share",
]
