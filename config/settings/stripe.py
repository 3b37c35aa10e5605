"""Stripe. Leave STRIPE_API_BASE empty for the real Stripe; set it to the local server otherwise."""

from config.settings.env import env_int, env_str

STRIPE_SECRET_KEY = env_str("STRIPE_SECRET_KEY")
STRIPE_WEBHOOK_SECRET = env_str("STRIPE_WEBHOOK_SECRET")
# Extra accepted webhook secrets during a rotation (comma separated).
STRIPE_WEBHOOK_SECRETS_PREVIOUS = env_str("STRIPE_WEBHOOK_SECRETS_PREVIOUS")
STRIPE_API_BASE = env_str("STRIPE_API_BASE").rstrip("/")
STRIPE_WEBHOOK_TOLERANCE_SECONDS = env_int("STRIPE_WEBHOOK_TOLERANCE_SECONDS", 300)
STRIPE_TIMEOUT_SECONDS = env_int("STRIPE_TIMEOUT_SECONDS", 20)
STRIPE_MAX_NETWORK_RETRIES = env_int("STRIPE_MAX_NETWORK_RETRIES", 2)
STRIPE_CHECKOUT_EXPIRY_MINUTES = env_int("STRIPE_CHECKOUT_EXPIRY_MINUTES", 60)
STRIPE_CURRENCY = "usd"
