"""Refunds: the admin action through Stripe, and the cumulative total Stripe reports.

A refund belongs to the order's paying Payment. Its `amount_refunded` is always SET to a cumulative
total (Stripe's `charge.amount_refunded`), never increased by a delta, and never lowered: an admin
refund and its `charge.refunded` webhook race harmlessly because both write the same total. Full ->
payment REFUNDED and the order REFUNDED; partial -> payment PARTIALLY_REFUNDED, the order keeps its
status. The order's summary columns and the broker's commission follow in the same transaction
(payouts.services.commission_apply_refund). docs/domain.md "Refunds".
"""

import logging
import uuid
from enum import StrEnum
from functools import partial

from django.db import transaction
from django.db.models import Q, Sum
from django.utils import timezone

from tradeline.analytics.services import stats_increment
from tradeline.audit.models import ActorType
from tradeline.audit.services import activity_log
from tradeline.core.errors import ApplicationError, Conflict, UpstreamError, ValidationFailed
from tradeline.core.money import cents_to_usd, format_usd
from tradeline.hooks import events as hook_events
from tradeline.hooks.models import EventType
from tradeline.orders.models import (
    PAID_PAYMENT_STATES,
    REFUNDABLE_PAYMENT_STATES,
    DisputeStatus,
    Order,
    OrderStatus,
    PaymentMethod,
    PaymentStatus,
)
from tradeline.orders.services import order_transition
from tradeline.payments import emails as payment_emails
from tradeline.payments import stripe_gateway
from tradeline.payments.models import Payment, PaymentRole, Refund, WebhookEvent
from tradeline.payments.services.common import (
    order_flag_for_review,
    order_locked,
    paying_payment_locked,
    payment_summary,
    refund_answer_record,
    review_reason_with,
)
from tradeline.payments.services.excess import excess_payment_of, excess_refunded_total_set
from tradeline.payouts.models import CommissionRecord
from tradeline.payouts.services import commission_apply_refund

logger = logging.getLogger(__name__)

REASON_MAX = 200


class RefundOutcome(StrEnum):
    APPLIED = "APPLIED"  # the cumulative total went up
    UNCHANGED = "UNCHANGED"  # this total (or a higher one) was applied before
    NOT_PAID = "NOT_PAID"  # the order has no payment yet: keep the report until it is paid
    EXCEEDS_PAID = "EXCEEDS_PAID"  # more refunded than paid: flagged for review


def _counted_as_sale(order: Order) -> bool:
    return order.broker_id is not None and CommissionRecord.objects.filter(order_id=order.pk).exists()


def _apply_total_locked(order: Order, payment: Payment | None, amount_refunded: int, *, actor_user=None,
                        source: str = "stripe") -> RefundOutcome:
    """Set the cumulative refunded total on the locked order's locked paying payment (module doc)."""
    if payment is None or payment.status not in PAID_PAYMENT_STATES or payment.amount <= 0:
        return RefundOutcome.NOT_PAID
    if amount_refunded > payment.amount:
        return RefundOutcome.EXCEEDS_PAID
    if amount_refunded <= payment.amount_refunded:
        return RefundOutcome.UNCHANGED
    delta = amount_refunded - payment.amount_refunded
    full = amount_refunded == payment.amount
    payment.amount_refunded = amount_refunded
    payment.status = PaymentStatus.REFUNDED if full else PaymentStatus.PARTIALLY_REFUNDED
    payment.refunded_at = timezone.now() if full else payment.refunded_at
    payment.save(update_fields=["amount_refunded", "status", "refunded_at", "updated_at"])
    order_transition(order=order, to=OrderStatus.REFUNDED if full else None, **payment_summary(payment))
    commission_apply_refund(order=order)
    if _counted_as_sale(order):
        stats_increment(broker_id=order.broker_id, refunds_count=1, refunded_amount=delta)
    activity_log(
        action="order.refunded" if full else "order.partially_refunded",
        entity=order, broker=order.broker, actor_user=actor_user,
        actor_type=ActorType.ADMIN if actor_user is not None else ActorType.STRIPE,
        metadata={"order_number": order.order_number, "amount_refunded": amount_refunded, "delta": delta,
                  "amount_paid": order.amount_paid, "source": source},
    )
    hook_events.order_event(order, EventType.ORDER_REFUNDED)
    transaction.on_commit(partial(payment_emails.send_refund_processed, order_id=order.pk, amount=delta))
    return RefundOutcome.APPLIED


def refund_total_apply(*, order_id, amount_refunded: int, actor_user=None, payment_intent: str | None = None,
                       charge_id: str | None = None) -> RefundOutcome:
    """Apply Stripe's cumulative `amount_refunded` (from charge.refunded) to the order, once.

    A charge of one of the order's EXCESS payments (named by `payment_intent` or `charge_id`) sets
    that payment's total only (services.excess): the paying payment, the order and the commission
    stay as they are.

    NOT_PAID: the order is not paid yet (the refund arrived first); the caller keeps the report
    and the paid transition applies it. EXCEEDS_PAID: the order is flagged for review.
    """
    if not isinstance(amount_refunded, int) or isinstance(amount_refunded, bool) or amount_refunded < 0:
        raise ValidationFailed("amount_refunded must be a non-negative number of cents.", code="INVALID_AMOUNT")
    with transaction.atomic():
        order = order_locked(order_id)
        excess = excess_payment_of(order_id=order.pk, payment_intent=payment_intent, charge_id=charge_id)
        if excess is not None:
            excess = Payment.objects.locked(excess.pk)
            applied = excess_refunded_total_set(order=order, payment=excess, amount_refunded=amount_refunded,
                                                source="stripe")
            return RefundOutcome.APPLIED if applied else RefundOutcome.UNCHANGED
        outcome = _apply_total_locked(order, paying_payment_locked(order), amount_refunded, actor_user=actor_user)
    if outcome == RefundOutcome.EXCEEDS_PAID:
        order_flag_for_review(order_id=order.pk, reason=f"Stripe reports {format_usd(amount_refunded)} refunded, "
                                                        f"more than the {format_usd(order.amount_paid)} paid.")
    return outcome


def _deferred_amount(event: WebhookEvent) -> int:
    obj = (event.payload.get("data") or {}).get("object") or {}
    value = obj.get("amount_refunded")
    return value if isinstance(value, int) and not isinstance(value, bool) else 0


def _deferred_reports():
    """`charge.refunded` reports kept until their order is paid (the handler's DEFERRED result)."""
    return WebhookEvent.objects.filter(status=WebhookEvent.Status.DEFERRED, event_type="charge.refunded")


def deferred_refunds_apply(*, order: Order, payment: Payment) -> RefundOutcome | None:
    """Inside the paid transaction (order and payment locked): apply `charge.refunded` reports that
    arrived before the payment was known, matched by order or payment intent, then mark them
    processed. One SELECT when there are none (the usual case)."""
    match = Q(order_id=order.pk)
    if payment.stripe_payment_intent:
        match |= Q(payload__data__object__payment_intent=payment.stripe_payment_intent)
    events = list(
        # skip_locked: a report being replayed right now applies itself once this payment commits.
        _deferred_reports().select_for_update(skip_locked=True).filter(match).order_by("pk")
    )
    if not events:
        return None
    total = max(_deferred_amount(e) for e in events)
    outcome = _apply_total_locked(order, payment, total) if total else RefundOutcome.UNCHANGED
    status = WebhookEvent.Status.PROCESSED
    note = ""
    if outcome == RefundOutcome.EXCEEDS_PAID:
        status, note = WebhookEvent.Status.NEEDS_REVIEW, "refunded amount exceeds the payment"
        # Called in the paid transition: nothing is placed at the supplier yet.
        order_transition(order=order, to=OrderStatus.ON_HOLD,
                         review_reason=review_reason_with(order, "Stripe reports more refunded than paid."))
    WebhookEvent.objects.filter(pk__in=[e.pk for e in events]).update(
        status=status, order=order, error=note, processed_at=timezone.now())
    return outcome


# ----------------------------------------------------------------------------------------------
# The admin refund
# ----------------------------------------------------------------------------------------------


def _of_payment(payment: Payment) -> Q:
    """Refund rows of this payment (rows older than payments name none: they are the paying one's)."""
    return Q(payment=payment) | Q(payment__isnull=True)


def refund_refusal(order: Order, payment: Payment | None) -> Conflict | None:
    """Why the order's paying `payment` cannot be refunded now (the error a refund would raise),
    or None: the one rule behind the refund endpoint and the admin's refund button.

    A dispute closed LOST already returned the money through the card network (Stripe refuses a
    refund on that charge): nothing is left to refund. After a WON dispute the money is ours again
    and at most what remains (paid − refunded) can be refunded, as for any paid order.
    """
    status = payment.status if payment is not None else order.payment_status
    if payment is None or status not in REFUNDABLE_PAYMENT_STATES:
        return Conflict(f"There is nothing to refund: the payment is {status}.",
                        code="NOT_REFUNDABLE", details={"payment_status": status})
    if payment.dispute_status == DisputeStatus.OPEN:
        return Conflict("The charge is disputed; it cannot be refunded until the dispute closes.",
                        code="DISPUTE_OPEN")
    if payment.dispute_status == DisputeStatus.LOST:
        return Conflict("The dispute on this charge was lost: the money already went back to the customer "
                        "through the card network, so there is nothing left to refund.",
                        code="DISPUTE_LOST", details={"dispute_status": payment.dispute_status})
    if payment.method == PaymentMethod.STRIPE and not payment.stripe_payment_intent:
        return Conflict("The Stripe payment of this order is not known yet; try again shortly.",
                        code="PAYMENT_INTENT_UNKNOWN")
    return None


def order_refund_refusal(order: Order) -> Conflict | None:
    """refund_refusal for an order page (no locks): its paying payment looked up."""
    return refund_refusal(order, Payment.objects.filter(order_id=order.pk, role=PaymentRole.PAYING).first())


def _require_refundable(order: Order, payment: Payment | None) -> Payment:
    refusal = refund_refusal(order, payment)
    if refusal is not None:
        raise refusal
    return payment


def _reserve(*, order_id, amount: int | None, admin, reason: str) -> tuple[Order, Payment, Refund]:
    """Create the Refund row (or pick up one still in progress) under the order and payment locks."""
    with transaction.atomic():
        order = order_locked(order_id)
        payment = _require_refundable(order, paying_payment_locked(order))
        # Refunds of this (the paying) payment only: an excess payment's refund is its own (services.excess).
        in_progress = Refund.objects.select_for_update().filter(
            _of_payment(payment), order=order, status=Refund.Status.PENDING).first()
        if in_progress is not None:
            if amount is None or amount == in_progress.amount:
                return order, payment, in_progress  # retried with the same idempotency key: Stripe refunds once
            raise Conflict(f"A refund of {format_usd(in_progress.amount)} is still in progress for this order.",
                           code="REFUND_IN_PROGRESS", details={"refund_id": str(in_progress.pk)})
        remaining = payment.amount - payment.amount_refunded
        if remaining <= 0:
            raise Conflict("The order is already fully refunded.", code="ALREADY_REFUNDED")
        amount = remaining if amount is None else amount
        if not 1 <= amount <= remaining:
            raise ValidationFailed(
                f"The refund amount must be between $0.01 and {format_usd(remaining)} (what is left to refund).",
                code="INVALID_REFUND_AMOUNT",
                details={"field": "amount", "remaining": remaining, "remaining_usd": cents_to_usd(remaining)},
            )
        refund = Refund.objects.create(order=order, payment=payment, amount=amount, reason=reason, requested_by=admin,
                                       idempotency_key=f"refund-{uuid.uuid4()}")
        activity_log(action="refund.requested", entity=refund, actor_user=admin, broker=order.broker,
                     metadata={"order_number": order.order_number, "amount": amount, "reason": reason})
        return order, payment, refund


def _stripe_refunded_total(payment: Payment) -> int | None:
    """Stripe's cumulative refunded amount for the payment's charge (None if it cannot be read)."""
    try:
        charge_id = payment.stripe_charge_id
        if not charge_id:
            intent = stripe_gateway.retrieve_payment_intent(payment.stripe_payment_intent)
            latest = intent.get("latest_charge")
            charge_id = latest.get("id") if isinstance(latest, dict) else latest
        if not charge_id:
            return None
        value = stripe_gateway.retrieve_charge(charge_id).get("amount_refunded")
    except ApplicationError as exc:
        logger.warning("order %s: could not read the refunded total from Stripe (%s)", payment.order_id, exc.code)
        return None
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _mark_failed(refund: Refund, admin, error: ApplicationError) -> None:
    with transaction.atomic():
        updated = Refund.objects.filter(pk=refund.pk, status=Refund.Status.PENDING).update(
            status=Refund.Status.FAILED, updated_at=timezone.now())
        if updated:
            activity_log(action="refund.failed", entity=refund, actor_user=admin,
                         metadata={"order_id": str(refund.order_id), "code": error.code})


def refund_create(*, order_id, amount: int | None, admin, reason: str = "") -> Refund:
    """Refund `amount` cents (default: all that remains) of a paid order.

    1. Under the order lock: check and create a PENDING Refund row with its idempotency key.
    2. Outside any transaction: Stripe refunds (a manual CASH/WIRE/CHECK payment is returned by the
       admin outside the system and only recorded here).
    3. One transaction: the Refund SUCCEEDED, the order's cumulative total set from what Stripe
       reports, the commission reduced, analytics counted.
    Stripe unreachable: the row stays PENDING and asking again retries it with the same key.
    """
    if amount is not None and (not isinstance(amount, int) or isinstance(amount, bool)):
        raise ValidationFailed("amount must be a whole number of cents.", code="INVALID_REFUND_AMOUNT")
    reason = " ".join(str(reason or "").split())[:REASON_MAX]
    order, payment, refund = _reserve(order_id=order_id, amount=amount, admin=admin, reason=reason)
    stripe_refund_id = None
    failed = False
    if payment.method == PaymentMethod.STRIPE:
        try:
            result = stripe_gateway.create_refund(
                payment_intent=payment.stripe_payment_intent, amount=refund.amount,
                idempotency_key=refund.idempotency_key,
                metadata={"order_id": str(order.pk), "order_number": order.order_number, "refund_id": str(refund.pk)},
            )
        except UpstreamError:
            raise  # outcome unknown: stays PENDING, a retry reuses the idempotency key
        except ApplicationError as exc:
            _mark_failed(refund, admin, exc)
            raise
        stripe_refund_id = result.id
        failed = result.status in ("failed", "canceled")
        reported = None if failed else _stripe_refunded_total(payment)
    else:
        reported = None
    with transaction.atomic():
        order = Order.objects.locked(order.pk)
        payment = Payment.objects.locked(payment.pk)
        refund = Refund.objects.select_for_update(of=("self",)).get(pk=refund.pk)
        if refund.status == Refund.Status.PENDING:
            refund_answer_record(refund, stripe_refund_id=stripe_refund_id, failed=failed)
        if refund.status == Refund.Status.FAILED:
            activity_log(action="refund.failed", entity=refund, actor_user=admin,
                         metadata={"order_number": order.order_number, "stripe_refund": stripe_refund_id or ""})
            raise ApplicationError("The payment service declined the refund.", code="REFUND_FAILED", status=402,
                                   details={"refund_id": str(refund.pk)})
        ours = order.refunds.filter(_of_payment(payment), status=Refund.Status.SUCCEEDED).aggregate(
            total=Sum("amount"))["total"] or 0
        total = reported if reported is not None else max(payment.amount_refunded, ours)
        outcome = _apply_total_locked(order, payment, min(total, payment.amount), actor_user=admin, source="admin")
        activity_log(action="refund.succeeded", entity=refund, actor_user=admin, broker=order.broker,
                     metadata={"order_number": order.order_number, "amount": refund.amount,
                               "stripe_refund": stripe_refund_id or "", "amount_refunded": order.amount_refunded,
                               "applied": outcome.value})
    refund.order = order
    return refund

