"""Refunds: the admin action through Stripe, and the cumulative total Stripe reports.

The order's `amount_refunded` is always SET to a cumulative total (Stripe's `charge.amount_refunded`),
never increased by a delta, and never lowered: an admin refund and its `charge.refunded` webhook
race harmlessly because both write the same total. Full -> order and payment REFUNDED; partial ->
payment PARTIALLY_REFUNDED, the order keeps its status. The broker's commission follows in the same
transaction (payouts.services.commission_apply_refund).
"""

import functools
import logging
import uuid
from enum import StrEnum

from django.db import router, transaction
from django.db.models import Exists, OuterRef, Q, Sum
from django.db.models.expressions import RawSQL
from django.db.models.fields.json import KT
from django.utils import timezone

from tradeline.analytics.services import stats_increment
from tradeline.audit.models import ActorType
from tradeline.audit.services import activity_log
from tradeline.core.db import expression_sql
from tradeline.core.errors import ApplicationError, Conflict, UpstreamError, ValidationFailed
from tradeline.core.locks import lock_one
from tradeline.core.money import cents_to_usd, format_usd
from tradeline.orders.models import DisputeStatus, Order, OrderStatus, PaymentMethod, PaymentStatus
from tradeline.payments import stripe_gateway
from tradeline.payments.models import Refund, WebhookEvent
from tradeline.payments.services.common import PAID_PAYMENT_STATES, order_flag_for_review, order_get_locked
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


def _apply_total_locked(order: Order, amount_refunded: int, *, actor_user=None, source: str = "stripe") -> RefundOutcome:
    """Set the cumulative refunded total on a locked order (see the module doc)."""
    if order.payment_status not in PAID_PAYMENT_STATES or order.amount_paid <= 0:
        return RefundOutcome.NOT_PAID
    if amount_refunded > order.amount_paid:
        return RefundOutcome.EXCEEDS_PAID
    if amount_refunded <= order.amount_refunded:
        return RefundOutcome.UNCHANGED
    delta = amount_refunded - order.amount_refunded
    now = timezone.now()
    order.amount_refunded = amount_refunded
    full = amount_refunded == order.amount_paid
    if full:
        order.payment_status = PaymentStatus.REFUNDED
        order.status = OrderStatus.REFUNDED
        order.refunded_at = now
    else:
        order.payment_status = PaymentStatus.PARTIALLY_REFUNDED
    order.save(update_fields=["amount_refunded", "payment_status", "status", "refunded_at", "updated_at"])
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
    return RefundOutcome.APPLIED


def refund_total_apply(*, order_id, amount_refunded: int, actor_user=None) -> RefundOutcome:
    """Apply Stripe's cumulative `amount_refunded` (from charge.refunded) to the order, once.

    NOT_PAID: the order is not paid yet (the refund arrived first); the caller keeps the report
    and the paid transition applies it. EXCEEDS_PAID: the order is flagged for review.
    """
    if not isinstance(amount_refunded, int) or isinstance(amount_refunded, bool) or amount_refunded < 0:
        raise ValidationFailed("amount_refunded must be a non-negative number of cents.", code="INVALID_AMOUNT")
    with transaction.atomic():
        order = order_get_locked(order_id)
        outcome = _apply_total_locked(order, amount_refunded, actor_user=actor_user)
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


@functools.cache
def _deferred_refunds_waiting_sql(using: str) -> RawSQL:
    return expression_sql(Order, Exists(
        _deferred_reports().alias(payment_intent=KT("payload__data__object__payment_intent")).filter(
            Q(order_id=OuterRef("pk")) | Q(payment_intent=OuterRef("stripe_payment_intent")))
    ), using=using)


def deferred_refunds_waiting() -> RawSQL:
    """Whether reports wait for an order's payment: an expression over the order's row, for the
    paid transition's UPDATE .. RETURNING (no statement of its own). It matches the reports
    deferred_refunds_apply applies: by order, or naming the order's payment intent (as text,
    compared with the column)."""
    return _deferred_refunds_waiting_sql(router.db_for_write(Order))


def deferred_refunds_apply(*, order: Order) -> RefundOutcome | None:
    """Inside the paid transaction (order locked): apply `charge.refunded` reports that arrived
    before the payment was known, matched by order or payment intent, then mark them processed.
    The paid transition calls it only when deferred_refunds_waiting said there are some."""
    match = Q(order_id=order.pk)
    if order.stripe_payment_intent:
        match |= Q(payload__data__object__payment_intent=order.stripe_payment_intent)
    events = list(
        # skip_locked: a report being replayed right now applies itself once this payment commits.
        _deferred_reports().select_for_update(skip_locked=True).filter(match).order_by("pk")
    )
    if not events:
        return None
    total = max(_deferred_amount(e) for e in events)
    outcome = _apply_total_locked(order, total) if total else RefundOutcome.UNCHANGED
    status = WebhookEvent.Status.PROCESSED
    note = ""
    if outcome == RefundOutcome.EXCEEDS_PAID:
        status, note = WebhookEvent.Status.NEEDS_REVIEW, "refunded amount exceeds the payment"
        order.status = OrderStatus.ON_HOLD if not order.supplier_order_id else order.status
        order.review_reason = f"{order.review_reason}\nStripe reports more refunded than paid.".strip()
        order.save(update_fields=["status", "review_reason", "updated_at"])
    WebhookEvent.objects.filter(pk__in=[e.pk for e in events]).update(
        status=status, order=order, error=note, processed_at=timezone.now())
    return outcome


# ----------------------------------------------------------------------------------------------
# The admin refund
# ----------------------------------------------------------------------------------------------


def _require_refundable(order: Order) -> None:
    if order.payment_status not in (PaymentStatus.SUCCEEDED, PaymentStatus.PARTIALLY_REFUNDED):
        raise Conflict(f"There is nothing to refund: the payment is {order.payment_status}.",
                       code="NOT_REFUNDABLE", details={"payment_status": order.payment_status})
    if order.dispute_status == DisputeStatus.OPEN:
        raise Conflict("The charge is disputed; it cannot be refunded until the dispute closes.",
                       code="DISPUTE_OPEN")
    if order.payment_method == PaymentMethod.STRIPE and not order.stripe_payment_intent:
        raise Conflict("The Stripe payment of this order is not known yet; try again shortly.",
                       code="PAYMENT_INTENT_UNKNOWN")


def _reserve(*, order_id, amount: int | None, admin, reason: str) -> tuple[Order, Refund]:
    """Create the Refund row (or pick up one still in progress) under the order lock."""
    with transaction.atomic():
        order = order_get_locked(order_id)
        _require_refundable(order)
        in_progress = Refund.objects.select_for_update().filter(order=order, status=Refund.Status.PENDING).first()
        if in_progress is not None:
            if amount is None or amount == in_progress.amount:
                return order, in_progress  # retried with the same idempotency key: Stripe refunds once
            raise Conflict(f"A refund of {format_usd(in_progress.amount)} is still in progress for this order.",
                           code="REFUND_IN_PROGRESS", details={"refund_id": str(in_progress.pk)})
        remaining = order.amount_paid - order.amount_refunded
        if remaining <= 0:
            raise Conflict("The order is already fully refunded.", code="ALREADY_REFUNDED")
        amount = remaining if amount is None else amount
        if not 1 <= amount <= remaining:
            raise ValidationFailed(
                f"The refund amount must be between $0.01 and {format_usd(remaining)} (what is left to refund).",
                code="INVALID_REFUND_AMOUNT",
                details={"field": "amount", "remaining": remaining, "remaining_usd": cents_to_usd(remaining)},
            )
        refund = Refund.objects.create(order=order, amount=amount, reason=reason, requested_by=admin,
                                       idempotency_key=f"refund-{uuid.uuid4()}")
        activity_log(action="refund.requested", entity=refund, actor_user=admin, broker=order.broker,
                     metadata={"order_number": order.order_number, "amount": amount, "reason": reason})
        return order, refund


def _stripe_refunded_total(order: Order) -> int | None:
    """Stripe's cumulative refunded amount for the order's charge (None if it cannot be read)."""
    try:
        charge_id = order.stripe_charge_id
        if not charge_id:
            intent = stripe_gateway.retrieve_payment_intent(order.stripe_payment_intent)
            latest = intent.get("latest_charge")
            charge_id = latest.get("id") if isinstance(latest, dict) else latest
        if not charge_id:
            return None
        value = stripe_gateway.retrieve_charge(charge_id).get("amount_refunded")
    except ApplicationError as exc:
        logger.warning("order %s: could not read the refunded total from Stripe (%s)", order.pk, exc.code)
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
    order, refund = _reserve(order_id=order_id, amount=amount, admin=admin, reason=reason)
    stripe_refund_id = None
    failed = False
    if order.payment_method == PaymentMethod.STRIPE:
        try:
            result = stripe_gateway.create_refund(
                payment_intent=order.stripe_payment_intent, amount=refund.amount,
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
        reported = None if failed else _stripe_refunded_total(order)
    else:
        reported = None
    with transaction.atomic():
        order = lock_one(Order, pk=order.pk)
        refund = lock_one(Refund, pk=refund.pk)
        if refund.status == Refund.Status.PENDING:
            refund.status = Refund.Status.FAILED if failed else Refund.Status.SUCCEEDED
            if stripe_refund_id and not Refund.objects.filter(stripe_refund_id=stripe_refund_id).exists():
                refund.stripe_refund_id = stripe_refund_id
            refund.save(update_fields=["status", "stripe_refund_id", "updated_at"])
        if refund.status == Refund.Status.FAILED:
            activity_log(action="refund.failed", entity=refund, actor_user=admin,
                         metadata={"order_number": order.order_number, "stripe_refund": stripe_refund_id or ""})
            raise ApplicationError("The payment service declined the refund.", code="REFUND_FAILED", status=402,
                                   details={"refund_id": str(refund.pk)})
        ours = order.refunds.filter(status=Refund.Status.SUCCEEDED).aggregate(total=Sum("amount"))["total"] or 0
        total = reported if reported is not None else max(order.amount_refunded, ours)
        outcome = _apply_total_locked(order, min(total, order.amount_paid), actor_user=admin, source="admin")
        activity_log(action="refund.succeeded", entity=refund, actor_user=admin, broker=order.broker,
                     metadata={"order_number": order.order_number, "amount": refund.amount,
                               "stripe_refund": stripe_refund_id or "", "amount_refunded": order.amount_refunded,
                               "applied": outcome.value})
    refund.order = order
    return refund

