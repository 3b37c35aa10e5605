"""Order endpoints: order lists and detail.

payments.api.router is mounted on the same /api/orders prefix (checkout, cancel, webhook, refunds,
manual payments, payment links) and payments.api.admin_router on /api/admin/orders (direct sales);
fulfillment.api.router adds retry-fulfillment there; paths here never overlap with those. Order ids in paths use the
`uuid` converter, so a malformed id is a plain 404 and never shadows another router's path.
"""

import uuid

from django.http import HttpRequest
from ninja import Query, Router

from tradeline.brokers.auth import AdminTokenAuth, BrokerKeyAuth
from tradeline.core.errors import ValidationFailed
from tradeline.orders import list_selectors, selectors
from tradeline.orders.schemas import (
    AdminOrderDetailOut,
    AdminOrderListOut,
    AdminOrderListQuery,
    BrokerOrderListOut,
    OrderDetailOut,
    OrderListQuery,
)

router = Router()
admin_router = Router()


def _is_admin(request: HttpRequest) -> bool:
    return getattr(request, "admin_user", None) is not None


@router.get("/broker", response=BrokerOrderListOut, auth=[BrokerKeyAuth()],
            summary="The calling broker's orders, filtered and paginated, with a summary (secret key)")
def broker_orders(request: HttpRequest, filters: Query[OrderListQuery]):
    return list_selectors.order_list(broker=request.broker, status=filters.status, start_date=filters.start_date,
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
    return list_selectors.order_list(broker_id=broker_id, direct_only=direct_only, status=filters.status,
                                start_date=filters.start_date, end_date=filters.end_date, page=filters.page,
                                limit=filters.limit, cursor=filters.cursor)


@router.get("/{uuid:order_id}", response=AdminOrderDetailOut | OrderDetailOut,
            auth=[AdminTokenAuth(), BrokerKeyAuth()],
            summary="One order with items and commission breakdown (admin, or the owning broker's secret key)")
def order_detail(request: HttpRequest, order_id: uuid.UUID):
    admin = _is_admin(request)
    order = selectors.order_get(order_id=order_id, broker=None if admin else request.broker)
    return selectors.order_detail(order=order, internal=admin)
