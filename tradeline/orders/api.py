"""Order endpoints: checkout (broker key), order lists and detail, admin direct sales and cancel.

payments.api.router is mounted on the same /api/orders prefix (webhook, refunds, manual payments,
payment links, retry-fulfillment); paths here never overlap with those. Order ids in paths use the
`uuid` converter, so a malformed id is a plain 404 and never shadows another router's path.
"""

import uuid

from django.conf import settings
from django.http import HttpRequest
from ninja import Query, Router, Status

from tradeline.brokers import keys
from tradeline.brokers.auth import AdminTokenAuth, BrokerKeyAuth
from tradeline.core import ratelimit
from tradeline.core.errors import ValidationFailed
from tradeline.core.money import cents_to_usd
from tradeline.orders import selectors, services
from tradeline.orders.schemas import (
    AdminOrderDetailOut,
    AdminOrderIn,
    AdminOrderListOut,
    AdminOrderListQuery,
    AdminOrderOut,
    BrokerOrderListOut,
    CheckoutIn,
    CheckoutOut,
    ErrorOut,
    OrderCancelIn,
    OrderDetailOut,
    OrderListQuery,
)

router = Router()
admin_router = Router()


def _is_admin(request: HttpRequest) -> bool:
    return getattr(request, "admin_user", None) is not None


# Beyond the shared error responses (core.errors): rate limit, and Stripe refusing (402/400) or failing (502).
CHECKOUT_ERRORS = {402: ErrorOut, 429: ErrorOut, 502: ErrorOut}


@router.post("/checkout", response={201: CheckoutOut, **CHECKOUT_ERRORS},
             auth=[BrokerKeyAuth(publishable_ok=True)],
             summary="Start a Stripe Checkout for a cart (broker publishable or secret key)")
def checkout(request: HttpRequest, payload: CheckoutIn):
    ratelimit.enforce(request, scope="checkout", rule=settings.RATE_LIMIT_CHECKOUT,
                      identity=keys.split_prefix(request.headers.get("x-api-key", "").strip()))
    order, session = services.checkout_create(
        broker=request.broker,
        customer_email=payload.customer_email,
        customer_name=payload.customer_name,
        items=[(item.card_id, item.quantity) for item in payload.items],
        success_url=payload.success_url,
        cancel_url=payload.cancel_url,
    )
    return Status(201, {
        "session_id": session.id,
        "checkout_url": session.url,
        "order_id": str(order.pk),
        "order_number": order.order_number,
        "total_charged": order.total_charged,
        "total_charged_usd": cents_to_usd(order.total_charged),
    })


@router.get("/broker", response=BrokerOrderListOut, auth=[BrokerKeyAuth()],
            summary="The calling broker's orders, filtered and paginated, with a summary (secret key)")
def broker_orders(request: HttpRequest, filters: Query[OrderListQuery]):
    return selectors.order_list(broker=request.broker, status=filters.status, start_date=filters.start_date,
                                end_date=filters.end_date, page=filters.page, limit=filters.limit,
                                cursor=filters.cursor)


@router.get("", response=AdminOrderListOut, auth=[AdminTokenAuth()],
            summary="All orders (admin): filters broker_id (or 'direct'), status, start_date, end_date")
def admin_orders(request: HttpRequest, filters: Query[AdminOrderListQuery]):
    broker_id, direct_only = None, False
    if filters.broker_id:
        if filters.broker_id.strip().lower() == "direct":
            direct_only = True
        else:
            try:
                broker_id = selectors.parse_uuid(filters.broker_id)
            except ValueError:
                raise ValidationFailed("broker_id must be a broker's id or 'direct'.", code="INVALID_BROKER_ID",
                                       details=[{"field": "broker_id", "message": "UUID or 'direct'"}]) from None
    return selectors.order_list(broker_id=broker_id, direct_only=direct_only, status=filters.status,
                                start_date=filters.start_date, end_date=filters.end_date, page=filters.page,
                                limit=filters.limit, cursor=filters.cursor)


@router.get("/{uuid:order_id}", response=AdminOrderDetailOut | OrderDetailOut,
            auth=[AdminTokenAuth(), BrokerKeyAuth()],
            summary="One order with items and commission breakdown (admin, or the owning broker's secret key)")
def order_detail(request: HttpRequest, order_id: uuid.UUID):
    admin = _is_admin(request)
    order = selectors.order_get(order_id=order_id, broker=None if admin else request.broker)
    return selectors.order_detail(order=order, internal=admin)


@router.post("/{uuid:order_id}/cancel", response=AdminOrderDetailOut, auth=[AdminTokenAuth(write=True)],
             summary="Cancel a PENDING order (admin); its Stripe session is expired")
def order_cancel(request: HttpRequest, order_id: uuid.UUID, payload: OrderCancelIn | None = None):
    order = services.order_cancel(order_id=order_id, actor_user=request.admin_user,
                                  reason=payload.reason if payload else "")
    return selectors.order_detail(order=order)


@admin_router.post("", response={201: AdminOrderOut, **CHECKOUT_ERRORS},
                   auth=[AdminTokenAuth(write=True)],
                   summary="A direct sale with no broker: the order and (unless create_checkout=false) its checkout")
def admin_order_create(request: HttpRequest, payload: AdminOrderIn):
    items = [(item.card_id, item.quantity) for item in payload.items]
    session = None
    if payload.create_checkout:
        order, session = services.checkout_create(
            broker=None, customer_email=payload.customer_email, customer_name=payload.customer_name, items=items,
            success_url=payload.success_url, cancel_url=payload.cancel_url, actor_user=request.admin_user,
        )
    else:
        services.clean_return_url(payload.success_url, field="success_url")  # refused even when unused
        services.clean_return_url(payload.cancel_url, field="cancel_url")
        order = services.order_create(broker=None, customer_email=payload.customer_email,
                                      customer_name=payload.customer_name, items=items,
                                      actor_user=request.admin_user)
    order = selectors.order_get(order_id=order.pk)
    return Status(201, {
        "order": selectors.order_detail(order=order),
        "session_id": session.id if session else None,
        "checkout_url": session.url if session else None,
    })
