"""What the paid, refund and dispute services share: the paid states, the order lock, the review flag."""

import uuid

from django.db import transaction

from tradeline.audit.services import activity_log
from tradeline.core.errors import NotFound
from tradeline.orders.models import Order, OrderStatus, PaymentStatus

PAID_PAYMENT_STATES = (PaymentStatus.SUCCEEDED, PaymentStatus.PARTIALLY_REFUNDED, PaymentStatus.REFUNDED)


def is_uuid(value) -> bool:
    if isinstance(value, uuid.UUID):
        return True
    try:
        uuid.UUID(str(value))
    except (ValueError, TypeError, AttributeError):
        return False
    return True


def order_get_locked(order_id) -> Order:
    """The order row locked FOR UPDATE (only its own row), broker loaded; 404 ORDER_NOT_FOUND."""
    if not is_uuid(order_id):
        raise NotFound("Order not found.", code="ORDER_NOT_FOUND")
    try:
        # Lock the order row only (not the broker's), with the broker loaded for the audit entries.
        return Order.objects.select_for_update(of=("self",)).select_related("broker").get(pk=order_id)
    except Order.DoesNotExist:
        raise NotFound("Order not found.", code="ORDER_NOT_FOUND") from None


def review_reason_append(order: Order, reason: str) -> None:
    reason = reason.strip()
    if reason and reason not in order.review_reason:
        order.review_reason = f"{order.review_reason}\n{reason}".strip()


def order_flag_for_review(*, order_id, reason: str) -> bool:
    """Flag an order an admin must look at: `review_reason` is set and an unfulfilled order is
    put ON_HOLD (a fulfilled or ended one keeps its status)."""
    with transaction.atomic():
        order = Order.objects.select_for_update().filter(pk=order_id).first()
        if order is None:
            return False
        previous = order.status
        review_reason_append(order, reason)
        if order.status in (OrderStatus.PENDING, OrderStatus.PROCESSING) and not order.supplier_order_id:
            order.status = OrderStatus.ON_HOLD
        order.save(update_fields=["status", "review_reason", "updated_at"])
        activity_log(action="order.flagged_for_review", entity=order, broker=order.broker,
                     metadata={"order_number": order.order_number, "previous_status": previous,
                               "reason": reason[:500]})
    return True
