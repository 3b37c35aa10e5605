"""The customer's order-status page and the evidence kept for disputes (README "After the payment")."""

import hashlib
import hmac

from config.settings.base import IS_PRODUCTION, SECRET_KEY
from config.settings.env import env_list, env_str


def _status_link_secret() -> str:
    secret = env_str("ORDER_STATUS_LINK_SECRET")
    if secret or IS_PRODUCTION:
        return secret  # required in production (check_production)
    # Development: derived from SECRET_KEY, so links survive restarts; rotate either to void them.
    return hmac.new(SECRET_KEY.encode(), b"order-status-link", hashlib.sha256).hexdigest()


# Signs the customer's status links (HMAC-SHA256 of the order id); rotating it voids every old link.
ORDER_STATUS_LINK_SECRET = _status_link_secret()
# Status page requests per client IP ("<count>/<seconds>"), counted for good and bad tokens alike.
RATE_LIMIT_STATUS_PAGE = env_list("RATE_LIMIT_STATUS_PAGE", "60/60")[0]
# Shown on the status page and in customer emails.
SUPPORT_EMAIL = env_str("SUPPORT_EMAIL", "support@tradeline.local")
SUPPORT_PHONE = env_str("SUPPORT_PHONE", "")
