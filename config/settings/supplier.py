"""TradelineSupply (WooCommerce REST v3)."""

from config.settings.env import env_int, env_str

TRADELINE_API_URL = env_str("TRADELINE_API_URL").rstrip("/")
TRADELINE_CONSUMER_KEY = env_str("TRADELINE_CONSUMER_KEY")
TRADELINE_CONSUMER_SECRET = env_str("TRADELINE_CONSUMER_SECRET")
TRADELINE_TIMEOUT_SECONDS = float(env_str("TRADELINE_TIMEOUT_SECONDS", "10"))
TRADELINE_MAX_RETRIES = env_int("TRADELINE_MAX_RETRIES", 3)
CATALOG_TTL_SECONDS = env_int("CATALOG_TTL_SECONDS", 300)
# Checkout refuses catalog data older than this (the supplier has been unreachable too long).
CATALOG_MAX_STALENESS_SECONDS = env_int("CATALOG_MAX_STALENESS_SECONDS", 3600)
# Supplier GET retries: exponential backoff from this base, each wait capped (Retry-After honoured up to the cap).
TRADELINE_RETRY_BACKOFF_SECONDS = float(env_str("TRADELINE_RETRY_BACKOFF_SECONDS", "0.5"))
TRADELINE_RETRY_MAX_BACKOFF_SECONDS = float(env_str("TRADELINE_RETRY_MAX_BACKOFF_SECONDS", "30"))
# After a failed lazy catalog refresh, wait this long before trying the supplier again.
CATALOG_RETRY_SECONDS = env_int("CATALOG_RETRY_SECONDS", 30)
