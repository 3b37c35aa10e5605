"""Admin two-factor sign-in, broker self-service and signed webhooks to brokers (README: "Two-factor
sign-in", "Broker self-service", "Webhooks to brokers")."""

from config.settings.env import env_bool, env_int, env_list, env_str

_PRODUCTION = env_str("TRADELINE_ENV", "development") == "production"

# SUPER_ADMIN and ADMIN must sign in with a second factor (TOTP or a recovery code).
ADMIN_REQUIRE_2FA = env_bool("ADMIN_REQUIRE_2FA", _PRODUCTION)
OTP_TOTP_ISSUER = env_str("OTP_TOTP_ISSUER", "Tradeline Marketplace")
ADMIN_RECOVERY_CODES = 10
ADMIN_2FA_CHALLENGE_SECONDS = 300
RATE_LIMIT_2FA = env_list("RATE_LIMIT_2FA", "5/300")[0]

# Broker portal: forgotten password links (Django's token generator) and email changes.
PASSWORD_RESET_TIMEOUT = env_int("PASSWORD_RESET_TIMEOUT", 3600)
EMAIL_CHANGE_TIMEOUT_SECONDS = env_int("EMAIL_CHANGE_TIMEOUT_SECONDS", 86400)
RATE_LIMIT_PASSWORD_RESET = env_list("RATE_LIMIT_PASSWORD_RESET", "3/900")[0]

# Webhooks to brokers.
BROKER_WEBHOOKS_MAX_ENDPOINTS = 5
BROKER_WEBHOOKS_TIMEOUT_SECONDS = env_int("BROKER_WEBHOOKS_TIMEOUT_SECONDS", 5)
# Only public addresses outside development (SSRF); http:// only to localhost when this is true.
BROKER_WEBHOOKS_ALLOW_PRIVATE = env_bool("BROKER_WEBHOOKS_ALLOW_PRIVATE", not _PRODUCTION)
BROKER_WEBHOOKS_SECRET_OVERLAP_SECONDS = env_int("BROKER_WEBHOOKS_SECRET_OVERLAP_SECONDS", 24 * 3600)
# Seconds after the first attempt at which each retry is due (exponential, about 3 days in all).
BROKER_WEBHOOKS_RETRY_SCHEDULE = [60 * 2**n for n in range(12)]  # 1 min, 2, 4, ... 34 h: 68 h in total
BROKER_WEBHOOKS_DISABLE_AFTER_FAILURES = env_int("BROKER_WEBHOOKS_DISABLE_AFTER_FAILURES", 50)

# Operator's email templates (emails/<name>.subject.txt, .txt, .html) are looked up here first.
EMAIL_TEMPLATE_DIR = env_str("EMAIL_TEMPLATE_DIR")
if EMAIL_TEMPLATE_DIR:
    from config.settings.base import TEMPLATES  # noqa: E402

    TEMPLATES[0]["DIRS"].insert(0, EMAIL_TEMPLATE_DIR)
