"""Everything we say to Stripe, and how we check what Stripe says to us.

This is the only module that imports the `stripe` SDK. Callers get plain dataclasses and dicts back
and see Stripe failures as our own errors:

- network trouble, timeouts, rate limits, 5xx, bad credentials -> UpstreamError (502, STRIPE_UNAVAILABLE);
- Stripe refusing the request (4xx: card declined, invalid parameters) -> ApplicationError (STRIPE_REJECTED).

The SDK talks to the real Stripe unless STRIPE_API_BASE points it at the local Stripe-compatible
server (`tradeline stripe_sim`). Webhook signatures are checked here on the raw request bytes,
before any JSON parsing.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import threading
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import stripe
from django.conf import settings

from tradeline.core.errors import ApplicationError, UpstreamError
from tradeline.core.money import format_usd

logger = logging.getLogger(__name__)


# --------------------------------------------------------------------------------------------
# Results
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class CheckoutSession:
    id: str
    url: str
    expires_at: datetime | None


@dataclass(frozen=True)
class PaymentLink:
    id: str
    url: str


@dataclass(frozen=True)
class RefundResult:
    id: str
    status: str
    amount: int


# --------------------------------------------------------------------------------------------
# Webhook signatures
# --------------------------------------------------------------------------------------------


class WebhookSignatureError(ApplicationError):
    """The Stripe-Signature header is missing, malformed, wrong or too old: the body is not trusted."""

    status = 400
    code = "INVALID_SIGNATURE"


class WebhookPayloadError(ApplicationError):
    """Correctly signed, but not a Stripe event object (not JSON, or no id/type)."""

    status = 400
    code = "INVALID_PAYLOAD"


def sign_payload(payload: bytes, secret: str, timestamp: int | None = None) -> str:
    """A Stripe-Signature header value for `payload`: "t=<unix>,v1=<hex HMAC-SHA256(secret, "<t>.<body>")>"."""
    if isinstance(payload, str):
        payload = payload.encode("utf-8")
    ts = int(time.time()) if timestamp is None else int(timestamp)
    signed = str(ts).encode("ascii") + b"." + payload
    return f"t={ts},v1={hmac.new(secret.encode('utf-8'), signed, hashlib.sha256).hexdigest()}"


def webhook_secrets() -> list[str]:
    """The current secret first, then every previous one still accepted during a rotation."""
    current = [settings.STRIPE_WEBHOOK_SECRET] if settings.STRIPE_WEBHOOK_SECRET else []
    previous = settings.STRIPE_WEBHOOK_SECRETS_PREVIOUS
    if isinstance(previous, str):
        previous = previous.split(",")
    return current + [s.strip() for s in previous or () if s and s.strip()]


def _signed_with(payload: str, header: str, secret: str) -> bool:
    """Whether one of the header's v1 signatures is the payload's, signed with `secret` (the stripe
    SDK's check; the timestamp window is ours, below, because it also refuses future timestamps)."""
    try:
        return stripe.WebhookSignature.verify_header(payload, header, secret, tolerance=None)
    except stripe.SignatureVerificationError:
        return False


def _signed_at(header: str) -> int:
    """The `t=` of a header whose signature has been verified (the SDK reads the first one too)."""
    for part in header.split(","):
        key, _, value = part.partition("=")
        if key == "t":
            return int(value)
    raise WebhookSignatureError("The Stripe-Signature header has no timestamp.")


def verify_webhook(payload: bytes, sig_header: str | None) -> dict:
    """Check the Stripe-Signature of the raw body and return the event as a plain dict.

    The signature check is the stripe SDK's (`WebhookSignature.verify_header`), tried with
    STRIPE_WEBHOOK_SECRET and then each of STRIPE_WEBHOOK_SECRETS_PREVIOUS (a secret rotation); every
    v1 value in the header counts (Stripe sends several during a roll). The timestamp must be within
    STRIPE_WEBHOOK_TOLERANCE_SECONDS of now, in either direction. Only then is the body parsed.
    """
    if isinstance(payload, str):
        payload = payload.encode("utf-8")
    if not sig_header or not sig_header.strip():
        raise WebhookSignatureError("The Stripe-Signature header is missing.", code="MISSING_SIGNATURE")
    secrets_ = webhook_secrets()
    if not secrets_:
        logger.error("webhook received but STRIPE_WEBHOOK_SECRET is not configured")
        raise ApplicationError(
            "Webhook verification is not configured.", code="WEBHOOK_NOT_CONFIGURED", status=503
        )
    try:
        text = payload.decode("utf-8")  # Stripe signs and sends UTF-8 JSON; anything else is not an event
    except UnicodeDecodeError as exc:
        raise WebhookPayloadError("The webhook body is not UTF-8 text.") from exc
    header = ",".join(part.strip() for part in sig_header.split(","))  # tolerate "t=1, v1=..."
    if not any(_signed_with(text, header, secret) for secret in secrets_):
        raise WebhookSignatureError("No signature in the Stripe-Signature header matches the payload.")
    tolerance = settings.STRIPE_WEBHOOK_TOLERANCE_SECONDS
    if tolerance and abs(int(time.time()) - _signed_at(header)) > tolerance:
        raise WebhookSignatureError(
            "The Stripe-Signature timestamp is outside the tolerance window.", code="STALE_SIGNATURE"
        )
    try:
        event = json.loads(text)
    except ValueError as exc:
        raise WebhookPayloadError("The webhook body is not valid JSON.") from exc
    if not isinstance(event, dict) or not isinstance(event.get("id"), str) or not isinstance(event.get("type"), str):
        raise WebhookPayloadError("The webhook body is not a Stripe event (id and type required).")
    return event


# --------------------------------------------------------------------------------------------
# The client
# --------------------------------------------------------------------------------------------

_clients: dict[tuple, stripe.StripeClient] = {}
_clients_lock = threading.Lock()


def get_client() -> stripe.StripeClient:
    """A StripeClient built from settings (cached per configuration; the key is never logged)."""
    api_key = settings.STRIPE_SECRET_KEY
    if not api_key:
        raise UpstreamError(
            "Payments are not configured (STRIPE_SECRET_KEY is empty).", code="STRIPE_UNAVAILABLE"
        )
    api_base = settings.STRIPE_API_BASE
    retries = int(settings.STRIPE_MAX_NETWORK_RETRIES)
    timeout = float(settings.STRIPE_TIMEOUT_SECONDS)
    config = (api_key, api_base, retries, timeout)
    with _clients_lock:
        client = _clients.get(config)
        if client is None:
            client = stripe.StripeClient(
                api_key,
                base_addresses={"api": api_base} if api_base else None,
                # A StripeClient retries (with its own idempotency keys) only when this is explicit.
                max_network_retries=retries,
                http_client=stripe.RequestsClient(timeout=timeout),
            )
            _clients.clear()  # settings changed (tests, key rotation): drop the old client
            _clients[config] = client
        return client


def _as_dict(obj: Any) -> dict:
    return obj.to_dict() if hasattr(obj, "to_dict") else dict(obj)


def _stripe_error(exc: stripe.StripeError, action: str) -> ApplicationError:
    """Map an SDK error to ours. Stripe's own message is kept in details; keys never are."""
    status = exc.http_status
    err = exc.error
    details = {
        "stripe_type": getattr(err, "type", None),
        "stripe_code": exc.code,
        "stripe_message": getattr(err, "message", None) or exc.user_message,
        "param": getattr(err, "param", None),
        "request_id": exc.request_id,
    }
    details = {k: v for k, v in details.items() if v is not None}
    transient = (
        isinstance(exc, (stripe.APIConnectionError, stripe.RateLimitError, stripe.AuthenticationError,
                         stripe.PermissionError))
        or status is None
        or status >= 500
    )
    if transient:
        logger.warning("stripe %s failed: %s (status %s, request %s)", action, type(exc).__name__, status,
                       exc.request_id)
        if isinstance(exc, (stripe.AuthenticationError, stripe.PermissionError)):
            logger.error("stripe rejected our API key; check STRIPE_SECRET_KEY")
        # Stripe's message is not passed on here: it may describe our credentials.
        return UpstreamError("The payment service is unavailable. Please try again shortly.",
                             code="STRIPE_UNAVAILABLE",
                             details={k: details[k] for k in ("stripe_type", "request_id") if k in details} or None)
    logger.info("stripe %s rejected: %s %s", action, status, details.get("stripe_code"))
    if isinstance(exc, stripe.CardError) or status == 402:
        http = 402
    elif isinstance(exc, stripe.IdempotencyError) or status == 409:
        http = 409
    elif status == 404:
        http = 404
    else:
        http = 400
    return ApplicationError(f"The payment service rejected the request: {details.get('stripe_message', '')}".strip(),
                            code="STRIPE_REJECTED", status=http, details=details)


def _call(action: str, fn, *args, **kwargs):
    try:
        return fn(*args, **kwargs)
    except stripe.StripeError as exc:
        raise _stripe_error(exc, action) from exc


# --------------------------------------------------------------------------------------------
# Gateway functions
# --------------------------------------------------------------------------------------------


def _order_metadata(order) -> dict[str, str]:
    return {
        "order_id": str(order.id),
        "order_number": order.order_number,
        "broker_id": str(order.broker_id) if order.broker_id else "direct",
    }


def _line_items(order) -> list[dict]:
    items = []
    for item in order.items.all():
        name = f"{item.bank_name} tradeline, {format_usd(item.credit_limit)} limit"
        description = f"Authorized-user tradeline: {item.bank_name}, credit limit {format_usd(item.credit_limit)}"
        if item.date_opened:
            description += f", opened {item.date_opened}"
        items.append({
            "quantity": item.quantity,
            "price_data": {
                "currency": order.currency or settings.STRIPE_CURRENCY,
                "unit_amount": item.customer_price,
                "product_data": {"name": name[:250], "description": description[:500],
                                 "metadata": {"card_id": item.card_id}},
            },
        })
    return items


def _checkout_expiry(order) -> datetime:
    """Anchored on the order's creation, so a repeated call sends the same parameters (Stripe refuses
    a reused idempotency key with different ones); from now when that would be too close for Stripe."""
    lifetime = timedelta(minutes=settings.STRIPE_CHECKOUT_EXPIRY_MINUTES)
    now = datetime.now(UTC)
    anchored = (order.created_at or now) + lifetime
    return anchored if anchored >= now + timedelta(minutes=31) else now + lifetime


def _terms_params(terms_url: str | None) -> dict:
    """Stripe's own terms-of-service checkbox on the payment page, its text linking our agreement."""
    if not terms_url:
        return {}
    return {"consent_collection": {"terms_of_service": "required"},
            "custom_text": {"terms_of_service_acceptance": {
                "message": f"I agree to the [Tradeline User Agreement]({terms_url})."}}}


def create_checkout_session(*, order, success_url: str, cancel_url: str,
                            terms_url: str | None = None) -> CheckoutSession:
    """A hosted Checkout Session for a PENDING order (line items at the customer unit price); with
    `terms_url`, Stripe's terms-of-service consent is required, its text linking the agreement.

    The idempotency key is derived from our order id, so a retried call returns the same session.
    """
    metadata = _order_metadata(order)
    expires_at = _checkout_expiry(order)
    params = {
        "mode": "payment",
        "line_items": _line_items(order),
        "customer_email": order.customer_email,
        "success_url": success_url,
        "cancel_url": cancel_url,
        "client_reference_id": str(order.id),
        "metadata": metadata,
        "payment_intent_data": {"metadata": metadata, "description": f"Order {order.order_number}"},
        "expires_at": int(expires_at.timestamp()),
        **_terms_params(terms_url),
    }
    session = _call("checkout session create", get_client().v1.checkout.sessions.create, params,
                    {"idempotency_key": f"checkout-{order.id}"})
    session = _as_dict(session)
    session_expires = session.get("expires_at")
    return CheckoutSession(
        id=session["id"],
        url=session.get("url") or "",
        expires_at=datetime.fromtimestamp(session_expires, UTC) if session_expires else None,
    )


def expire_checkout_session(session_id: str) -> None:
    _call("checkout session expire", get_client().v1.checkout.sessions.expire, session_id)


def retrieve_checkout_session(session_id: str) -> dict:
    return _as_dict(_call("checkout session retrieve", get_client().v1.checkout.sessions.retrieve, session_id))


def create_payment_link(*, order) -> PaymentLink:
    """A reusable payment link for the order's amount. Callers check the order is PENDING first."""
    metadata = _order_metadata(order)
    params = {
        "line_items": _line_items(order),
        "metadata": metadata,
        "payment_intent_data": {"metadata": metadata, "description": f"Order {order.order_number}"},
        "restrictions": {"completed_sessions": {"limit": 1}},
    }
    link = _call("payment link create", get_client().v1.payment_links.create, params,
                 {"idempotency_key": f"payment-link-{order.id}"})
    return PaymentLink(id=link["id"], url=link["url"])


def deactivate_payment_link(link_id: str) -> None:
    """`POST /v1/payment_links/{id}` with `active=false`: nobody can open the link any more (a session
    already opened from it stays payable until it expires, as at Stripe)."""
    _call("payment link deactivate", get_client().v1.payment_links.update, link_id, {"active": False})


def create_refund(*, payment_intent: str, amount: int, idempotency_key: str, metadata: dict) -> RefundResult:
    if not isinstance(amount, int) or isinstance(amount, bool) or amount <= 0:
        raise ApplicationError("A refund amount must be a positive number of cents.", code="VALIDATION_ERROR",
                               status=422)
    params = {"payment_intent": payment_intent, "amount": amount,
              "metadata": {str(k): str(v) for k, v in (metadata or {}).items()}}
    refund = _call("refund create", get_client().v1.refunds.create, params, {"idempotency_key": idempotency_key})
    return RefundResult(id=refund["id"], status=refund["status"], amount=refund["amount"])


def retrieve_payment_intent(payment_intent_id: str) -> dict:
    return _as_dict(_call("payment intent retrieve", get_client().v1.payment_intents.retrieve, payment_intent_id))


def retrieve_charge(charge_id: str) -> dict:
    return _as_dict(_call("charge retrieve", get_client().v1.charges.retrieve, charge_id))


def list_refunds(charge_id: str) -> list[dict]:
    refunds = _call("refund list", get_client().v1.refunds.list, {"charge": charge_id, "limit": 100})
    return [_as_dict(r) for r in refunds.auto_paging_iter()]


def retrieve_dispute(dispute_id: str) -> dict:
    return _as_dict(_call("dispute retrieve", get_client().v1.disputes.retrieve, dispute_id))


def update_dispute(dispute_id: str, *, evidence: dict[str, str], submit: bool, idempotency_key: str) -> dict:
    """POST /v1/disputes/{id}: save (submit=False) or submit the dispute's text evidence."""
    params = {"evidence": {str(k): str(v) for k, v in evidence.items()}, "submit": bool(submit)}
    return _as_dict(_call("dispute update", get_client().v1.disputes.update, dispute_id, params,
                          {"idempotency_key": idempotency_key}))
