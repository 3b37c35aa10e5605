"""Excess payments: money taken for an order beyond its one PAYING payment (docs/domain.md "Excess
payments"): the customer paid both the Checkout Session and a payment link, a session completed
while it was being expired, a bank debit settled late, a card payment after a manual payment.

Each is its own Payment row (role EXCESS), recorded by the paid transition, which also enqueues the
refund task in the same transaction. The task (payments.tasks.refund_excess_payment) runs one
attempt here:

1. one short transaction, order then payment locked: the payment is still an EXCESS payment with
   money left to give back; its Refund row is created once (its idempotency key is derived from
   the payment id and is unique, so concurrent attempts share one row and Stripe refunds once);
2. no transaction open, no row locked: Stripe refunds the whole remainder with that key;
3. one transaction: the Refund SUCCEEDED and the payment's cumulative refunded total set.

An excess payment never touches the order's status, summaries, commission, analytics or
fulfillment; its `charge.refunded` webhook lands here too (`excess_refunded_total_set`), never on
the paying payment. Network errors, Stripe 5xx and 429 are retried with backoff; the periodic sweep
(`payments.services.excess_queue.excess_refund_sweep`) re-enqueues what is still unrefunded.
"""

import logging
from enum import StrEnum

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from tradeline.audit.models import ActorType
from tradeline.audit.services import activity_log
from tradeline.core.errors import ApplicationError, UpstreamError
from tradeline.orders.models import PAID_PAYMENT_STATES, Order, PaymentMethod, PaymentStatus
from tradeline.payments import stripe_gateway
from tradeline.payments.models import Payment, PaymentRole, Refund
from tradeline.payments.services.common import order_locked_or_none, refund_answer_record

logger = logging.getLogger(__name__)


class ExcessRefundOutcome(StrEnum):
    REFUNDED = "REFUNDED"  # Stripe refunded it (now or before)
    NOTHING_TO_DO = "NOTHING_TO_DO"  # not an excess payment, or nothing left to refund
    RETRY = "RETRY"  # Stripe unreachable / 5xx / 429: try again later with the same key
    FAILED = "FAILED"  # Stripe refused (4xx): left visible; the sweep tries again later


def excess_refund_key(payment_id) -> str:
    """The Stripe idempotency key (and our Refund row's unique key) of an excess payment's refund."""
    return f"excess-refund-{payment_id}"


def excess_refund_metadata(payment: Payment) -> dict[str, str]:
    """What the refund carries to Stripe: derived from the payment only, so that every attempt sends
    the same parameters with the same idempotency key (Stripe refuses a reused key otherwise)."""
    return {"order_id": str(payment.order_id), "payment_id": str(payment.pk), "reason": "excess_payment"}


def excess_refunded_total_set(*, order: Order, payment: Payment, amount_refunded: int, source: str) -> bool:
    """Set an EXCESS payment's cumulative refunded total (order and payment locked by the caller).

    Never lowered, never above the amount; the order, its paying payment and its commission are
    not touched. True when the total went up."""
    if payment.role != PaymentRole.EXCESS or payment.status not in PAID_PAYMENT_STATES:
        return False
    total = min(amount_refunded, payment.amount)
    if total <= payment.amount_refunded:
        return False
    full = total == payment.amount
    payment.amount_refunded = total
    payment.status = PaymentStatus.REFUNDED if full else PaymentStatus.PARTIALLY_REFUNDED
    payment.refunded_at = timezone.now() if full else payment.refunded_at
    payment.save(update_fields=["amount_refunded", "status", "refunded_at", "updated_at"])
    activity_log(action="order.excess_refunded" if full else "order.excess_partially_refunded", entity=order,
                 broker_id=order.broker_id, actor_type=ActorType.STRIPE if source == "stripe" else ActorType.SYSTEM,
                 metadata={"order_number": order.order_number, "payment_id": str(payment.pk),
                           "amount": payment.amount, "amount_refunded": total, "source": source})
    return True


def _reserve(payment_id) -> tuple[Payment, Refund] | None:
    """Step 1: the payment still owes money back -> its one Refund row (PENDING), else None."""
    with transaction.atomic():
        payment = Payment.objects.filter(pk=payment_id).only("order_id").first()
        if payment is None or order_locked_or_none(payment.order_id) is None:  # the order first
            return None
        payment = Payment.objects.locked(payment_id)
        remaining = payment.amount - payment.amount_refunded
        if (payment.role != PaymentRole.EXCESS or payment.status not in PAID_PAYMENT_STATES or remaining <= 0
                or payment.method != PaymentMethod.STRIPE):
            return None
        key = excess_refund_key(payment.pk)
        # The key is unique: a concurrent attempt's row wins and both use it (no check-then-insert).
        Refund.objects.bulk_create([Refund(order_id=payment.order_id, payment=payment, amount=remaining,
                                           reason="excess payment", idempotency_key=key)],
                                   ignore_conflicts=True)
        refund = Refund.objects.select_for_update(of=("self",)).get(idempotency_key=key)
        if refund.status == Refund.Status.FAILED:  # refused before: asked again (the sweep's retry)
            refund.status = Refund.Status.PENDING
            refund.save(update_fields=["status", "updated_at"])
        return payment, refund


def _finish(payment: Payment, refund: Refund, *, stripe_refund_id: str, failed: bool) -> bool:
    """Step 3: record Stripe's answer. True when the payment is now refunded."""
    with transaction.atomic():
        order = order_locked_or_none(payment.order_id)
        payment = Payment.objects.locked(payment.pk)
        refund = Refund.objects.select_for_update(of=("self",)).get(pk=refund.pk)
        # A success wins over a failure recorded by a concurrent attempt (same key: one refund at Stripe).
        if refund.status == Refund.Status.PENDING or (not failed and refund.status == Refund.Status.FAILED):
            refund_answer_record(refund, stripe_refund_id=stripe_refund_id, failed=failed)
        if failed:
            activity_log(action="order.excess_refund_failed", entity=order, broker_id=order.broker_id,
                         metadata={"order_number": order.order_number, "payment_id": str(payment.pk),
                                   "stripe_refund": stripe_refund_id})
            return False
        # The refund was of everything left: Stripe's cumulative total is now the whole amount.
        excess_refunded_total_set(order=order, payment=payment, amount_refunded=payment.amount, source="task")
        return True


def excess_refund_attempt(*, payment_id) -> ExcessRefundOutcome:
    """One attempt to give an excess payment back in full through Stripe (module doc). Safe to run
    twice and concurrently: the Refund row and Stripe's idempotency key are the payment's own."""
    reserved = _reserve(payment_id)
    if reserved is None:
        return ExcessRefundOutcome.NOTHING_TO_DO
    payment, refund = reserved
    if not payment.stripe_payment_intent:
        logger.warning("excess payment %s has no payment intent yet; its refund waits", payment.pk)
        return ExcessRefundOutcome.RETRY
    try:
        result = stripe_gateway.create_refund(
            payment_intent=payment.stripe_payment_intent, amount=refund.amount, idempotency_key=refund.idempotency_key,
            metadata=excess_refund_metadata(payment))
    except UpstreamError as exc:
        logger.warning("excess payment %s: refund not made yet (%s); retried", payment.pk, exc.code)
        return ExcessRefundOutcome.RETRY
    except ApplicationError as exc:
        if exc.status == 409:  # the same key is in flight in another attempt: its answer is awaited
            logger.info("excess payment %s: refund already in progress elsewhere; retried", payment.pk)
            return ExcessRefundOutcome.RETRY
        logger.warning("excess payment %s: Stripe refused the refund (%s)", payment.pk, exc.code)
        _finish(payment, refund, stripe_refund_id="", failed=True)
        return ExcessRefundOutcome.FAILED
    failed = result.status in ("failed", "canceled")
    refunded = _finish(payment, refund, stripe_refund_id=result.id, failed=failed)
    return ExcessRefundOutcome.REFUNDED if refunded else ExcessRefundOutcome.FAILED


def excess_payment_of(*, order_id, payment_intent: str | None, charge_id: str | None) -> Payment | None:
    """The order's EXCESS payment holding this payment intent or charge (None if it is not one)."""
    ids = Q(pk__in=[])
    if payment_intent:
        ids |= Q(stripe_payment_intent=payment_intent)
    if charge_id:
        ids |= Q(stripe_charge_id=charge_id)
    return Payment.objects.filter(ids, order_id=order_id, role=PaymentRole.EXCESS).first()
