"""Business rules (docs/domain.md, "Money rules"). Percentages are Decimals, money integer cents."""

from config.settings.env import env_decimal, env_int, env_list

PLATFORM_COMMISSION_PERCENT = env_decimal("PLATFORM_COMMISSION_PERCENT", "50")
BROKER_SHARE_MIN = env_decimal("BROKER_SHARE_MIN", "10")
BROKER_SHARE_MAX = env_decimal("BROKER_SHARE_MAX", "25")
BROKER_SHARE_DEFAULT = env_decimal("BROKER_SHARE_DEFAULT", "10")
# Largest fixed markup a broker may add per tradeline ($5,000.00): above it is a typo, not a price.
BROKER_MARKUP_FIXED_MAX_CENTS = env_int("BROKER_MARKUP_FIXED_MAX_CENTS", 500_000)
PAYOUT_MINIMUM_CENTS = env_int("PAYOUT_MINIMUM_CENTS", 5000)
COMMISSION_HOLD_DAYS = env_int("COMMISSION_HOLD_DAYS", 0)
ADMIN_TOKEN_TTL_SECONDS = env_int("ADMIN_TOKEN_TTL_SECONDS", 8 * 3600)
# Rate limits: "<count>/<seconds>".
RATE_LIMIT_LOGIN = env_list("RATE_LIMIT_LOGIN", "5/300")[0]
RATE_LIMIT_CHECKOUT = env_list("RATE_LIMIT_CHECKOUT", "30/60")[0]
RATE_LIMIT_CATALOG = env_list("RATE_LIMIT_CATALOG", "600/60")[0]
# Tax details: Fernet keys (urlsafe base64, 32 bytes) that encrypt brokers' TINs, comma-separated,
# newest first; the first encrypts, all decrypt (rotate with `tradeline rotate_tax_keys`).
TAX_ID_ENCRYPTION_KEYS = env_list("TAX_ID_ENCRYPTION_KEYS")
# The 1099-NEC threshold of the operator's year-end export, cents paid in the calendar year.
TAX_REPORTING_THRESHOLD_CENTS = env_int("TAX_REPORTING_THRESHOLD_CENTS", 60_000)
# How many payouts `create_payouts --send` sends at once (each waits on Stripe, not on the others).
PAYOUT_SEND_WORKERS = env_int("PAYOUT_SEND_WORKERS", 4)
