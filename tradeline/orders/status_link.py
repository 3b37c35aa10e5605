"""The customer's signed order-status link: /status/<order id>/<token>, where the token is the
HMAC-SHA256 of the order id under settings.ORDER_STATUS_LINK_SECRET (base64url, 32 characters,
192 bits). No login: whoever has the link sees the order's status page. Rotating the secret voids
every link sent before."""

import base64
import hashlib
import hmac

from django.conf import settings
from django.urls import reverse

TOKEN_LENGTH = 32


def status_token(order_id) -> str:
    digest = hmac.new(settings.ORDER_STATUS_LINK_SECRET.encode("utf-8"), f"order-status:{order_id}".encode(),
                      hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).decode("ascii")[:TOKEN_LENGTH]


def status_token_valid(order_id, token: str) -> bool:
    """Constant-time check of a token against the order id (False for anything malformed)."""
    if not isinstance(token, str) or len(token) != TOKEN_LENGTH or not settings.ORDER_STATUS_LINK_SECRET:
        return False
    return hmac.compare_digest(status_token(order_id), token)


def status_path(order_id) -> str:
    return reverse("orderstatus:page", args=[str(order_id), status_token(order_id)])


def status_url(order_id) -> str:
    """The absolute link put in the checkout response, the success page and every customer email."""
    return settings.PUBLIC_BASE_URL + status_path(order_id)
