"""Test data for commissions and payouts: paid orders and their commissions.

The paid path itself (payments.services.order_payment_record) belongs to payment events; here an order
made by the pricing engine is marked paid directly and its commission created through our service.
"""

from datetime import datetime, timezone as dt_timezone

from tradeline.orders.models import Order, OrderStatus, PaymentStatus
from tradeline.payouts.services import commission_create_for_order
from tradeline.testing.factories import make_order

UTC = dt_timezone.utc


def utc(*args) -> datetime:
    return datetime(*args, tzinfo=UTC)


def mark_paid(order: Order, *, paid_at: datetime) -> Order:
    Order.objects.filter(pk=order.pk).update(
        status=OrderStatus.PROCESSING,
        payment_status=PaymentStatus.SUCCEEDED,
        amount_paid=order.total_charged,
        paid_at=paid_at,
    )
    order.refresh_from_db()
    return order


def paid_order(*, broker, paid_at: datetime, prices=(100_000,), quantity: int = 1) -> Order:
    """A paid order with its commission (share 10 %, markup 20 % on make_broker's defaults)."""
    order = mark_paid(make_order(broker=broker, prices=prices, quantity=quantity), paid_at=paid_at)
    commission_create_for_order(order=order)
    return order


def set_refunded(order: Order, amount_refunded: int) -> Order:
    """What the payment side records from charge.refunded: the cumulative refunded amount."""
    fields = {"amount_refunded": amount_refunded}
    if amount_refunded >= order.total_charged:
        fields.update(status=OrderStatus.REFUNDED, payment_status=PaymentStatus.REFUNDED)
    else:
        fields.update(payment_status=PaymentStatus.PARTIALLY_REFUNDED)
    Order.objects.filter(pk=order.pk).update(**fields)
    order.refresh_from_db()
    return order


def set_dispute(order: Order, status: str) -> Order:
    Order.objects.filter(pk=order.pk).update(dispute_status=status)
    order.refresh_from_db()
    return order
