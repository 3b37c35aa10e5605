"""What every payments service shares: finding and locking an order and its payments, the order's
payment summary, and flagging an order for review. Lock order (docs/domain.md "Lock order"):
Order -> Payment -> Commission -> Payout; every function here takes the order's lock first."""

import logging
import uuid

from django.db import IntegrityError, transaction

from tradeline.audit.services import activity_log
from tradeline.core.errors import NotFound
from tradeline.orders.models import Order, OrderStatus
from tradeline.orders.services import order_transition
from tradeline.payments.models import Payment, PaymentRole, Refund

logger = logging.getLogger(__name__)


def is_uuid(value) -> bool:
    if isinstance(value, uuid.UUID):
        return True
    try:
        uuid.UUID(str(value))
    except (ValueError, TypeError, AttributeError):
        return False
    return True


def order_locked(order_id) -> Order:
    """The order row locked (Order.objects.locked), or NotFound (404 ORDER_NOT_FOUND)."""
    order = order_locked_or_none(order_id)
    if order is None:
        raise NotFound("Order not found.", code="ORDER_NOT_FOUND")
    return order


def order_locked_or_none(order_id) -> Order | None:
    """The order row locked (Order.objects.locked); None for an unknown or malformed id."""
    if not is_uuid(order_id):
        return None
    try:
        return Order.objects.locked(order_id)
    except Order.DoesNotExist:
        return None


def payments_locked(order: Order) -> list[Payment]:
    """All payments of a locked order, locked in primary-key order (second in the lock order)."""
    return list(Payment.objects.select_for_update(of=("self",)).filter(order_id=order.pk).order_by("pk"))


def paying_payment(payments: list[Payment]) -> Payment | None:
    return next((p for p in payments if p.role == PaymentRole.PAYING), None)


def paying_payment_locked(order: Order) -> Payment | None:
    """The locked order's PAYING payment, locked; None before it is paid."""
    return Payment.objects.select_for_update(of=("self",)).filter(order_id=order.pk, role=PaymentRole.PAYING).first()


def payment_summary(payment: Payment) -> dict:
    """The order's summary columns as the paying payment states them (docs/domain.md
    "Summaries"): the only place their values are computed."""
    return dict(payment_status=payment.status, amount_paid=payment.amount, paid_at=payment.paid_at,
                amount_refunded=payment.amount_refunded, dispute_status=payment.dispute_status)


STRIPE_IDS = ("stripe_session_id", "stripe_payment_intent", "stripe_charge_id", "stripe_payment_link_id")


def payment_save(payment: Payment, *, update_fields: list[str] | None = None) -> None:
    """Save a payment; its Stripe ids are unique (constraints, not checks beforehand). Should one
    of them already belong to another payment (a Stripe object reported for two orders), the save
    is repeated without it, and that is logged: the money is still recorded."""
    try:
        with transaction.atomic():
            payment.save(update_fields=update_fields)
            return
    except IntegrityError:
        taken = [name for name in STRIPE_IDS if getattr(payment, name)
                 and Payment.objects.filter(**{name: getattr(payment, name)}).exclude(pk=payment.pk).exists()]
        if not taken:
            raise
    for name in taken:
        logger.warning("order %s: %s %s already belongs to another payment; not stored", payment.order_id, name,
                       getattr(payment, name))
        setattr(payment, name, None)
    payment.save(update_fields=update_fields)


def review_reason_with(order: Order, reason: str) -> str:
    """The order's review note with `reason` appended once."""
    reason = reason.strip()
    if not reason or reason in order.review_reason:
        return order.review_reason
    return f"{order.review_reason}\n{reason}".strip()


def order_flag_for_review(*, order_id, reason: str) -> bool:
    """Flag an order an admin must look at: `review_reason` is set and an order not placed at the
    supplier yet (PENDING, PROCESSING) is put ON_HOLD; a fulfilled or ended one keeps its status."""
    with transaction.atomic():
        order = order_locked_or_none(order_id)
        if order is None:
            return False
        previous = order.status
        placed = order.supplier is not None and order.supplier.supplier_order_id
        hold = order.status in (OrderStatus.PENDING, OrderStatus.PROCESSING) and not placed
        order_transition(order=order, to=OrderStatus.ON_HOLD if hold else None,
                         review_reason=review_reason_with(order, reason))
        activity_log(action="order.flagged_for_review", entity=order, broker_id=order.broker_id,
                     metadata={"order_number": order.order_number, "previous_status": previous,
                               "reason": reason[:500]})
    return True


def refund_answer_record(refund: Refund, *, stripe_refund_id: str | None, failed: bool) -> None:
    """Stripe's answer on a refund row locked by the caller: FAILED or SUCCEEDED, with Stripe's
    refund id. That id is unique (a constraint, not a check first): when another row already holds
    it, the answer is stored without it and the clash is logged."""
    refund.status = Refund.Status.FAILED if failed else Refund.Status.SUCCEEDED
    refund.stripe_refund_id = stripe_refund_id or None
    try:
        with transaction.atomic():
            refund.save(update_fields=["status", "stripe_refund_id", "updated_at"])
    except IntegrityError:
        logger.warning("refund %s: Stripe refund %s is already recorded; not stored", refund.pk, stripe_refund_id)
        refund.stripe_refund_id = None
        refund.save(update_fields=["status", "stripe_refund_id", "updated_at"])
