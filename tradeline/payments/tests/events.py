"""Stripe-shaped test events, signed for real with the gateway's signer and posted to the webhook."""

import itertools
import json
import time

from django.conf import settings

from tradeline.payments.stripe_gateway import sign_payload
from tradeline.testing.factories import session_of

WEBHOOK_URL = "/api/orders/webhook/stripe"
_seq = itertools.count(1)


def _n() -> int:
    return next(_seq)


def event(event_type: str, obj: dict, *, event_id: str | None = None) -> dict:
    return {
        "id": event_id or f"evt_test_{_n():06d}",
        "object": "event",
        "api_version": "2024-06-20",
        "created": int(time.time()),
        "livemode": False,
        "type": event_type,
        "data": {"object": obj},
    }


def _meta(order) -> dict:
    return {"order_id": str(order.pk), "order_number": order.order_number,
            "broker_id": str(order.broker_id) if order.broker_id else "direct"}


def session(order, *, payment_status="paid", amount=None, currency="usd", payment_intent=None, session_id=None,
            name="Ada Lovelace", phone="+15550100") -> dict:
    return {
        "id": session_id or session_of(order) or f"cs_test_{_n():06d}",
        "object": "checkout.session",
        "mode": "payment",
        "status": "complete" if payment_status == "paid" else "open",
        "payment_status": payment_status,
        "payment_intent": payment_intent if payment_intent is not None else f"pi_for_{order.pk.hex[:16]}",
        "amount_total": order.total_charged if amount is None else amount,
        "currency": currency,
        "customer_details": {"email": order.customer_email, "name": name, "phone": phone},
        "metadata": _meta(order),
    }


def completed(order, *, event_id=None, **kw) -> dict:
    return event("checkout.session.completed", session(order, **kw), event_id=event_id)


def payment_intent(order, *, amount=None, currency="usd", pi=None, charge=None, status="succeeded",
                   error_code=None) -> dict:
    pi = pi or f"pi_for_{order.pk.hex[:16]}"
    obj = {
        "id": pi, "object": "payment_intent", "status": status,
        "amount": order.total_charged if amount is None else amount,
        "amount_received": (order.total_charged if amount is None else amount) if status == "succeeded" else 0,
        "currency": currency, "latest_charge": charge or f"ch_for_{order.pk.hex[:16]}", "metadata": _meta(order),
    }
    if error_code:
        obj["last_payment_error"] = {"code": "card_declined", "decline_code": error_code}
    return obj


def charge(order, *, amount_refunded: int, pi=None, charge_id=None, with_metadata=True) -> dict:
    return {
        "id": charge_id or f"ch_for_{order.pk.hex[:16]}", "object": "charge",
        "amount": order.total_charged, "amount_refunded": amount_refunded,
        "refunded": amount_refunded >= order.total_charged, "currency": "usd",
        "payment_intent": pi or f"pi_for_{order.pk.hex[:16]}",
        "metadata": _meta(order) if with_metadata else {},
    }


def dispute(order, *, status="needs_response", pi=None, charge_id=None) -> dict:
    return {
        "id": f"dp_for_{order.pk.hex[:16]}", "object": "dispute", "amount": order.total_charged,
        "charge": charge_id or f"ch_for_{order.pk.hex[:16]}", "payment_intent": pi or f"pi_for_{order.pk.hex[:16]}",
        "reason": "fraudulent", "status": status, "metadata": {},
    }


def signed(evt: dict, *, secret: str | None = None, timestamp: int | None = None) -> tuple[bytes, str]:
    body = json.dumps(evt).encode()
    return body, sign_payload(body, secret or settings.STRIPE_WEBHOOK_SECRET, timestamp)


def post(client, evt: dict, **kw):
    """POST a signed event like Stripe does; returns the response."""
    body, signature = signed(evt, **kw)
    return client.post(WEBHOOK_URL, data=body, content_type="application/json", HTTP_STRIPE_SIGNATURE=signature)
