"""Payment endpoints, mounted on /api/orders beside orders.api.router.

- POST /webhook/stripe — Stripe's webhook (no auth: the signature is the credential; csrf exempt).
- POST /{id}/manual-payment, /{id}/payment-link, /{id}/refund, /{id}/retry-fulfillment — admin (write).
"""

import uuid

from django.http import HttpRequest
from ninja import Router, Status

from tradeline.brokers.auth import AdminTokenAuth
from tradeline.core.money import cents_to_usd
from tradeline.fulfillment.services import fulfillment_retry
from tradeline.orders.selectors import order_detail, order_get
from tradeline.payments import services
from tradeline.payments.schemas import (
    ManualPaymentIn,
    OrderOut,
    PaymentLinkOut,
    RefundIn,
    RefundOut,
    WebhookAckOut,
)
from tradeline.payments.webhooks import webhook_receive

router = Router()
ADMIN_WRITE = [AdminTokenAuth(write=True)]


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


@router.post("/{uuid:order_id}/retry-fulfillment", response={202: OrderOut}, auth=ADMIN_WRITE,
             summary="Try placing a paid order at the supplier again (admin)")
def retry_fulfillment(request: HttpRequest, order_id: uuid.UUID):
    order = fulfillment_retry(order_id=order_id, admin=request.admin_user)
    return Status(202, {"order": order_detail(order=order)})
