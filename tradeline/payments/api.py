"""Payment endpoints, mounted on /api/orders beside orders.api.router (admin_router on /api/admin/orders).

- POST /checkout — a cart's order and its Stripe Checkout (broker key); tagged "orders" as before.
- POST /{id}/cancel — cancel a PENDING order and expire its Stripe session (admin); tagged "orders".
- POST /webhook/stripe — Stripe's webhook (no auth: the signature is the credential; csrf exempt).
- POST /{id}/manual-payment, /{id}/payment-link, /{id}/refund — admin (write).
- POST /api/admin/orders — a direct sale and (unless create_checkout=false) its checkout (admin).
The checkout endpoints keep the tags and operation ids they had when they lived in orders.api.
"""

import uuid

from django.conf import settings
from django.http import HttpRequest
from ninja import Router, Status

from tradeline.agreements.services import AgreementConsent
from tradeline.brokers import keys
from tradeline.brokers.auth import AdminTokenAuth, BrokerKeyAuth
from tradeline.core import ratelimit
from tradeline.core.errors import RateLimited
from tradeline.core.money import cents_to_usd
from tradeline.orders import services as order_services
from tradeline.orders.schemas import (
    AdminOrderDetailOut,
    AdminOrderIn,
    AdminOrderOut,
    CheckoutIn,
    CheckoutOut,
    ErrorOut,
    OrderCancelIn,
    OrderOut,
)
from tradeline.orders.selectors import order_detail, order_get
from tradeline.orders.status_link import status_url
from tradeline.payments import services
from tradeline.payments.services import checkout as checkout_services
from tradeline.payments.schemas import (
    ManualPaymentIn,
    PaymentLinkOut,
    RefundIn,
    RefundOut,
    WebhookAckOut,
)
from tradeline.payments.webhooks import webhook_receive

def _consent(request: HttpRequest, payload, *, admin=None) -> AgreementConsent:
    """The request's agreement fields, with the address and browser our server saw."""
    return AgreementConsent(version=payload.agreement_version, accepted=payload.agreement_accepted,
                            client_ip=ratelimit.client_ip(request),
                            user_agent=request.headers.get("user-agent", ""), accepted_by=admin)


router = Router()
admin_router = Router()
ADMIN_WRITE = [AdminTokenAuth(write=True)]


def _checkout_slots(request: HttpRequest) -> list[ratelimit.Attempt]:
    """A checkout slot of the client address (RATE_LIMIT_CHECKOUT), then of the key (its ceiling,
    RATE_LIMIT_CHECKOUT_KEY, which one address cannot reach). Refused by either: 429 and nothing
    counted. The caller gives the slots back when the request never reached Stripe."""
    per_address = ratelimit.acquire(request, scope="checkout", rule=settings.RATE_LIMIT_CHECKOUT)
    try:
        per_key = ratelimit.acquire(None, scope="checkout-key", rule=settings.RATE_LIMIT_CHECKOUT_KEY,
                                    identity=keys.split_prefix(request.headers.get("x-api-key", "").strip()) or "?")
    except RateLimited:
        per_address.release()
        raise
    return [per_address, per_key]


# Beyond the shared error responses (core.errors): rate limit, and Stripe refusing (402/400) or failing (502).
CHECKOUT_ERRORS = {402: ErrorOut, 429: ErrorOut, 502: ErrorOut}


@router.post("/checkout", response={201: CheckoutOut, **CHECKOUT_ERRORS},
             auth=[BrokerKeyAuth(publishable_ok=True)],
             tags=["orders"], operation_id="tradeline_orders_api_checkout",
             summary="Start a Stripe Checkout for a cart (broker publishable or secret key)")
def checkout(request: HttpRequest, payload: CheckoutIn):
    slots = _checkout_slots(request)
    stripe_asked = []
    try:
        order, session = checkout_services.checkout_create(
            broker=request.broker,
            customer_email=payload.customer_email,
            customer_name=payload.customer_name,
            items=[(item.card_id, item.quantity) for item in payload.items],
            success_url=payload.success_url,
            cancel_url=payload.cancel_url,
            agreement=_consent(request, payload),
            on_stripe_call=lambda: stripe_asked.append(True),
        )
    except Exception:
        if not stripe_asked:  # refused before Stripe (bad cart, inactive broker): it cost nothing
            for slot in slots:
                slot.release()
        raise
    return Status(201, {
        "session_id": session.id,
        "checkout_url": session.url,
        "order_id": str(order.pk),
        "order_number": order.order_number,
        "total_charged": order.total_charged,
        "total_charged_usd": cents_to_usd(order.total_charged),
        "status_url": status_url(order.pk),
    })


@router.post("/{uuid:order_id}/cancel", response=AdminOrderDetailOut, auth=[AdminTokenAuth(write=True)],
             tags=["orders"], operation_id="tradeline_orders_api_order_cancel",
             summary="Cancel a PENDING order (admin); its Stripe session is expired")
def order_cancel(request: HttpRequest, order_id: uuid.UUID, payload: OrderCancelIn | None = None):
    order = checkout_services.checkout_cancel(order_id=order_id, actor_user=request.admin_user,
                                              reason=payload.reason if payload else "")
    return order_detail(order=order)


@router.post("/webhook/stripe", response={200: WebhookAckOut}, auth=None,
             summary="Stripe webhook (signed with Stripe-Signature; duplicates acknowledged)")
def stripe_webhook(request: HttpRequest):
    outcome = webhook_receive(payload=request.body, signature=request.headers.get("Stripe-Signature"))
    return outcome.as_dict()


@router.post("/{uuid:order_id}/manual-payment", response={200: OrderOut}, auth=ADMIN_WRITE,
             summary="Record a CASH / WIRE / CHECK payment for a PENDING order (admin)")
def manual_payment(request: HttpRequest, order_id: uuid.UUID, payload: ManualPaymentIn):
    order = services.manual_payment_record(order_id=order_id, method=payload.payment_method,
                                           reference=payload.reference, admin=request.admin_user)
    return {"order": order_detail(order=order)}


@router.post("/{uuid:order_id}/payment-link", response={200: PaymentLinkOut}, auth=ADMIN_WRITE,
             summary="A Stripe payment link for a PENDING order (admin)")
def payment_link(request: HttpRequest, order_id: uuid.UUID):
    payment = services.payment_link_create(order_id=order_id, admin=request.admin_user)
    order = order_get(order_id=payment.order_id)
    return {"order": order_detail(order=order), "payment_link_id": payment.stripe_payment_link_id,
            "payment_link_url": payment.stripe_payment_link_url}


@router.post("/{uuid:order_id}/refund", response={201: RefundOut}, auth=ADMIN_WRITE,
             summary="Refund all or part of a paid order through Stripe (admin)")
def refund(request: HttpRequest, order_id: uuid.UUID, payload: RefundIn):
    row = services.refund_create(order_id=order_id, amount=payload.amount, admin=request.admin_user,
                                 reason=payload.reason)
    return Status(201, {
        "refund": {
            "id": str(row.pk), "amount": row.amount, "amount_usd": cents_to_usd(row.amount), "status": row.status,
            "stripe_refund_id": row.stripe_refund_id, "reason": row.reason, "created_at": row.created_at.isoformat(),
        },
        "order": order_detail(order=row.order),
    })


@admin_router.post("", response={201: AdminOrderOut, **CHECKOUT_ERRORS},
                   auth=[AdminTokenAuth(write=True)],
                   tags=["admin orders"], operation_id="tradeline_orders_api_admin_order_create",
                   summary="A direct sale with no broker: the order and (unless create_checkout=false) its checkout")
def admin_order_create(request: HttpRequest, payload: AdminOrderIn):
    items = [(item.card_id, item.quantity) for item in payload.items]
    session = None
    if payload.create_checkout:
        order, session = checkout_services.checkout_create(
            broker=None, customer_email=payload.customer_email, customer_name=payload.customer_name, items=items,
            success_url=payload.success_url, cancel_url=payload.cancel_url, actor_user=request.admin_user,
            agreement=_consent(request, payload, admin=request.admin_user),
        )
    else:
        order_services.clean_return_url(payload.success_url, field="success_url")  # refused even when unused
        order_services.clean_return_url(payload.cancel_url, field="cancel_url")
        order = checkout_services.order_create_accepted(
            broker=None, customer_email=payload.customer_email, customer_name=payload.customer_name, items=items,
            actor_user=request.admin_user, agreement=_consent(request, payload, admin=request.admin_user))
    order = order_get(order_id=order.pk)
    return Status(201, {
        "order": order_detail(order=order),
        "session_id": session.id if session else None,
        "checkout_url": session.url if session else None,
    })
