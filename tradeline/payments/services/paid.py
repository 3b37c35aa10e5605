"""Money coming in: the one "paid" transition (Stripe or manual), and the ways an order ends unpaid.

Each signal becomes a Payment row (docs/domain.md "Payment"); the order's status moves only
through orders.services.order_transition. Every function runs in one transaction with the order
locked first, then its payments (docs/domain.md "Lock order"), so repeated and concurrent signals
change the order once. Nothing here talks to Stripe or the supplier while a row is locked.

Decisions (docs/domain.md "Paid"):
- Only a PENDING order is paid. The amount and currency must equal the order's total; otherwise
  the money is recorded (the payment PAYING) and the order goes ON_HOLD for review (no commission,
  no fulfillment).
- Money that arrives for an order that ended unpaid (expired, cancelled, failed) is recorded the
  same way and the order goes ON_HOLD: an admin refunds it or fulfils by hand.
- A second, different payment for a paid order is recorded as an EXCESS payment and refunded in
  full automatically (a task enqueued in the same transaction); the order itself does not change.
"""

import logging
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from django.db import transaction
from django.utils import timezone

from tradeline.analytics.services import stats_increment
from tradeline.audit.models import ActorType
from tradeline.audit.services import activity_entry, activity_log, activity_log_many
from tradeline.core.errors import ApplicationError, Conflict, NotFound, ValidationFailed
from tradeline.core.money import cents_to_usd
from tradeline.fulfillment.dispatch import fulfillment_start
from tradeline.hooks import events as hook_events
from tradeline.hooks.models import EventType
from tradeline.orders.models import (
    MANUAL_METHODS,
    Order,
    OrderStatus,
    PaymentMethod,
    PaymentStatus,
)
from tradeline.orders.services import order_cancel, order_transition
from tradeline.payments.models import Payment, PaymentRole
from tradeline.payments.services.common import (
    is_uuid,
    order_flag_for_review,
    order_locked_or_none,
    payment_summary,
    paying_payment,
    payment_save,
    payments_locked,
    review_reason_with,
)
from tradeline.payments.services.excess_queue import excess_refund_enqueue
from tradeline.payments.services.refunds import deferred_refunds_apply
from tradeline.payouts.services import commission_create_for_order

logger = logging.getLogger(__name__)

REFERENCE_MAX = 200

__all__ = ["PaidOutcome", "order_flag_for_review", "order_payment_record"]


class PaidOutcome(StrEnum):
    PAID = "PAID"  # this call made the paid transition
    ALREADY_PAID = "ALREADY_PAID"  # the same payment was recorded before: nothing changed
    HELD = "HELD"  # money recorded, order ON_HOLD for review (mismatch, or the order had ended unpaid)
    DOUBLE_PAYMENT = "DOUBLE_PAYMENT"  # a different second payment: recorded as EXCESS, its refund queued


def order_payment_record(*, order_id, amount: int, currency: str, method: str, reference: str = "",
                         payment_intent: str | None = None, charge_id: str | None = None,
                         session_id: str | None = None, customer_name: str = "", customer_phone: str = "",
                         actor_user=None) -> PaidOutcome:
    """Record money received for an order; the paid transition happens here and only here.

    One transaction: lock the order, then its payments; find the payment this signal is about (by
    payment intent, else Checkout Session, else the open Stripe attempt) or start one; then:
    PENDING and matching -> the payment PAYING / SUCCEEDED, the order PROCESSING, its commission,
    activity entries, supplier order and fulfillment task, the broker's UTC-day figures, and refund
    reports that arrived before the payment; PENDING and not matching, or ended unpaid -> ON_HOLD;
    already paid -> ALREADY_PAID (same payment) or DOUBLE_PAYMENT (an EXCESS payment).
    """
    if not isinstance(amount, int) or isinstance(amount, bool) or amount < 0:
        raise ValidationFailed("The amount must be a non-negative number of cents.", code="INVALID_AMOUNT")
    signal = _Signal(amount=amount, currency=(currency or "").lower(), method=method, reference=reference,
                     payment_intent=payment_intent, charge_id=charge_id, session_id=session_id,
                     actor_user=actor_user,
                     customer_name=customer_name.strip()[:200], customer_phone=customer_phone.strip()[:40])
    # No savepoint of its own (savepoint=False): inside a caller's transaction (the webhook's
    # handler savepoint) an error rolls back with the caller's. The refusals are decided before
    # anything is written and raised after the block, so a caller may catch them and go on.
    with transaction.atomic(savepoint=False):
        order = order_locked_or_none(order_id)
        refusal = _refusal(order, method)
        if refusal is None:
            payments = payments_locked(order)
            payment = _payment_for(order, payments, signal)
            paying = paying_payment(payments)
            if order.status == OrderStatus.PENDING:
                return _paid(order, payment, signal)
            if paying is None:
                return _money_after_close(order, payment, signal)
            if payment.pk == paying.pk:
                return _same_payment_again(order, payment, signal)
            return _excess(order, payment, signal, paying)
    raise refusal


@dataclass(frozen=True)
class _Signal:
    """The facts of one paid signal (a Stripe event or an admin's manual payment)."""

    amount: int
    currency: str
    method: str
    reference: str
    payment_intent: str | None
    charge_id: str | None
    session_id: str | None
    customer_name: str
    customer_phone: str
    actor_user: Any

    @property
    def actor_type(self) -> str:
        return ActorType.ADMIN if self.actor_user is not None else ActorType.STRIPE


def _refusal(order: Order | None, method: str) -> ApplicationError | None:
    if order is None:
        return NotFound("Order not found.", code="ORDER_NOT_FOUND")
    if order.status != OrderStatus.PENDING and method in MANUAL_METHODS:
        return Conflict(f"Only a PENDING order can be paid; this one is {order.status}.",
                        code="ORDER_NOT_PENDING", details={"status": order.status})
    return None


def _payment_for(order: Order, payments: list[Payment], signal: _Signal) -> Payment:
    """The payment the signal is about: a manual one is always new; a Stripe one is the payment
    holding its payment intent, else the one holding its Checkout Session, else (neither named) the
    paying Stripe payment, else the order's open Stripe attempt (a session that is not one of ours
    belongs to a payment link: that attempt first), else a new row."""
    if signal.method in MANUAL_METHODS:
        return Payment(order=order, method=signal.method, amount=order.total_charged, currency=order.currency)
    stripe = [p for p in payments if p.method == PaymentMethod.STRIPE]
    match = None
    if signal.payment_intent:
        match = next((p for p in stripe if p.stripe_payment_intent == signal.payment_intent), None)
    if match is None and signal.session_id:
        match = next((p for p in stripe if p.stripe_session_id == signal.session_id), None)
    if match is None and not (signal.payment_intent or signal.session_id):
        match = next((p for p in stripe if p.role == PaymentRole.PAYING), None)
    if match is None:
        open_attempts = sorted((p for p in stripe if p.status == PaymentStatus.PENDING and not p.stripe_payment_intent),
                               key=lambda p: (not (signal.session_id and p.stripe_payment_link_id), p.created_at))
        match = next(iter(open_attempts), None)
    return match or Payment(order=order, method=PaymentMethod.STRIPE, amount=order.total_charged,
                            currency=order.currency)


def _record(payment: Payment, signal: _Signal, *, role: str) -> None:
    """Save the money on the payment: SUCCEEDED with the amount, currency and ids received."""
    payment.role = role
    payment.status = PaymentStatus.SUCCEEDED
    payment.amount = signal.amount
    payment.currency = signal.currency
    payment.paid_at = timezone.now()
    payment.reference = (signal.reference or signal.payment_intent or "")[:REFERENCE_MAX]
    payment.recorded_by = signal.actor_user
    _store_ids(payment, signal)
    payment_save(payment)


def _store_ids(payment: Payment, signal: _Signal) -> list[str]:
    """The signal's payment intent, charge and session on a payment that has none yet (saved by
    payment_save, which drops one that belongs to another payment). Returns the fields set."""
    fields = []
    for name, value in (("stripe_payment_intent", signal.payment_intent), ("stripe_charge_id", signal.charge_id),
                        ("stripe_session_id", signal.session_id)):  # a payment link's session
        if value and not getattr(payment, name):
            setattr(payment, name, value)
            fields.append(name)
    return fields


def _customer(order: Order, signal: _Signal) -> dict:
    """The customer's name and phone. The name the customer typed at checkout wins over the
    cardholder's name the payment reports (which only fills a blank one); the phone as reported
    (kept when the payment reports none)."""
    return dict(customer_name=order.customer_name or signal.customer_name,
                customer_phone=signal.customer_phone or order.customer_phone)


def _mismatch(order: Order, signal: _Signal) -> str:
    problems = []
    if signal.amount != order.total_charged:
        problems.append(f"amount received {cents_to_usd(signal.amount)} != order total "
                        f"{cents_to_usd(order.total_charged)}")
    if signal.currency != (order.currency or "").lower():
        problems.append(f"currency {signal.currency!r} != {order.currency!r}")
    return "; ".join(problems)


def _paid(order: Order, payment: Payment, signal: _Signal) -> PaidOutcome:
    """A PENDING order: the paid transition, or ON_HOLD when the money does not match."""
    _record(payment, signal, role=PaymentRole.PAYING)
    problem = _mismatch(order, signal)
    if problem:
        order_transition(order=order, to=OrderStatus.ON_HOLD, **payment_summary(payment), **_customer(order, signal),
                         review_reason=review_reason_with(order, f"Payment does not match the order: {problem}."))
        activity_log(action="order.payment_mismatch", entity=order, broker_id=order.broker_id,
                     actor_type=signal.actor_type, actor_user=signal.actor_user,
                     metadata={"order_number": order.order_number, "amount": signal.amount,
                               "currency": signal.currency, "expected_amount": order.total_charged,
                               "expected_currency": order.currency})
        return PaidOutcome.HELD
    order_transition(order=order, to=OrderStatus.PROCESSING, **payment_summary(payment), **_customer(order, signal))
    activity: list = []  # the commission's entry and the order's, written in one INSERT
    commission_create_for_order(order=order, current=True, activity=activity)
    activity.append(activity_entry(
        action="order.paid", entity=order, broker_id=order.broker_id, actor_type=signal.actor_type,
        actor_user=signal.actor_user,
        metadata={"order_number": order.order_number, "amount": signal.amount, "currency": signal.currency,
                  "method": signal.method, "reference": payment.reference}))
    activity_log_many(activity)
    hook_events.order_event(order, EventType.ORDER_PAID)
    fulfillment_start(order=order)
    if order.broker_id is not None:
        # Last: the broker's daily row is shared by all its sales; hold its lock only briefly.
        stats_increment(broker_id=order.broker_id, day=payment.paid_at.date(), orders_count=1,
                        total_sales=order.total_charged, revenue_share_earned=order.broker_revenue_share,
                        markup_earned=order.broker_markup)
    deferred_refunds_apply(order=order, payment=payment)
    return PaidOutcome.PAID


def _money_after_close(order: Order, payment: Payment, signal: _Signal) -> PaidOutcome:
    """The order ended unpaid (expired, cancelled, failed) and money arrived anyway."""
    previous = order.status
    _record(payment, signal, role=PaymentRole.PAYING)
    reason = (f"Payment of {cents_to_usd(signal.amount)} {signal.currency} received after the order was "
              f"{previous}: refund it or fulfil by hand.")
    order_transition(order=order, to=OrderStatus.ON_HOLD, **payment_summary(payment), **_customer(order, signal),
                     review_reason=review_reason_with(order, reason))
    activity_log(action="order.payment_after_close", entity=order, broker_id=order.broker_id,
                 actor_type=ActorType.STRIPE,
                 metadata={"order_number": order.order_number, "amount": signal.amount, "currency": signal.currency,
                           "previous_status": previous, "payment_intent": signal.payment_intent or ""})
    return PaidOutcome.HELD


def _same_payment_again(order: Order, payment: Payment, signal: _Signal) -> PaidOutcome:
    """A repeat of the paying payment's signal: only ids and customer details it adds are kept
    (payment_intent.succeeded often comes first; the session's customer details follow)."""
    fields = _store_ids(payment, signal)
    if fields:
        payment_save(payment, update_fields=[*fields, "updated_at"])
    order_transition(order=order, **_customer(order, signal))
    return PaidOutcome.ALREADY_PAID


def _excess(order: Order, payment: Payment, signal: _Signal, paying: Payment) -> PaidOutcome:
    """Money beyond the paying payment: recorded as an EXCESS payment and its full refund enqueued
    in this transaction (services.excess). The order, its summaries, its commission and its
    fulfillment stay as they are; the order is not held."""
    if payment.role == PaymentRole.EXCESS:
        return PaidOutcome.DOUBLE_PAYMENT  # this excess payment was recorded (and its refund queued) before
    _record(payment, signal, role=PaymentRole.EXCESS)
    excess_refund_enqueue(payment=payment)
    activity_log(action="order.double_payment", entity=order, broker_id=order.broker_id, actor_type=ActorType.STRIPE,
                 metadata={"order_number": order.order_number, "amount": signal.amount, "currency": signal.currency,
                           "payment_intent": signal.payment_intent or "", "paid_by": paying.method,
                           "payment_id": str(payment.pk), "refund": "queued"})
    return PaidOutcome.DOUBLE_PAYMENT


def payment_charge_store(*, order_id, payment_intent: str, charge_id: str) -> bool:
    """The charge of a payment known by its intent (a `charge.*` event names both), unless the
    payment has one or another payment holds it. True when stored. The order is locked first, as
    everywhere (docs/domain.md "Lock order"), before the payment row is written."""
    with transaction.atomic():
        if order_locked_or_none(order_id) is None:
            return False
        payment = Payment.objects.filter(order_id=order_id, stripe_payment_intent=payment_intent,
                                         stripe_charge_id__isnull=True).first()
        if payment is None:
            return False
        payment.stripe_charge_id = charge_id
        payment_save(payment, update_fields=["stripe_charge_id", "updated_at"])
        return payment.stripe_charge_id is not None


# ----------------------------------------------------------------------------------------------
# Orders that end unpaid
# ----------------------------------------------------------------------------------------------


def _attempts_close(order_id, status: str, **lookup) -> int:
    """Open (PENDING) payment attempts of the order -> `status`."""
    return Payment.objects.filter(order_id=order_id, status=PaymentStatus.PENDING, role=PaymentRole.ATTEMPT,
                                  **lookup).update(status=status, updated_at=timezone.now())


def order_checkout_expired(*, order_id, session_id: str) -> bool:
    """`checkout.session.expired`: the session's payment attempt is CANCELLED, and a PENDING order
    whose own checkout session it was (and that has no payment link) is cancelled.

    Keyed on the session: an expired payment-link session, or any session of an order that has a
    payment link or is already paid, changes no order."""
    with transaction.atomic():
        if order_locked_or_none(order_id) is None:  # the order first (docs/domain.md "Lock order")
            return False
        closed = _attempts_close(order_id, PaymentStatus.CANCELLED, stripe_session_id=session_id)
        if not closed:
            return False
        own_session_only = dict(payments__stripe_session_id=session_id)
        if Payment.objects.filter(order_id=order_id, stripe_payment_link_id__isnull=False).exists():
            return False
        cancelled = order_cancel(order_id=order_id, reason="checkout session expired",
                                 action="order.checkout_expired", actor_type=ActorType.STRIPE, strict=False,
                                 **own_session_only)
    return cancelled is not None


def order_async_payment_failed(*, order_id) -> bool:
    """`checkout.session.async_payment_failed`: the delayed payment was declined; PENDING -> FAILED."""
    with transaction.atomic():
        order = order_locked_or_none(order_id)
        if order is None or order.status != OrderStatus.PENDING:
            return False
        _attempts_close(order.pk, PaymentStatus.FAILED)
        order_transition(order=order, to=OrderStatus.FAILED)
        activity_log(action="order.payment_failed", entity=order, broker_id=order.broker_id,
                     actor_type=ActorType.STRIPE, metadata={"order_number": order.order_number})
    return True


def order_payment_attempt_failed(*, order_id, payment_intent: str, code: str = "") -> bool:
    """`payment_intent.payment_failed`: logged only while the order is PENDING (the customer may
    try again in the same session); nothing changes."""
    order = Order.objects.filter(pk=order_id).first() if is_uuid(order_id) else None
    if order is None or order.status != OrderStatus.PENDING:
        return False
    activity_log(action="order.payment_attempt_failed", entity=order, broker_id=order.broker_id,
                 actor_type=ActorType.STRIPE,
                 metadata={"order_number": order.order_number, "payment_intent": payment_intent,
                           "code": code[:100]})
    return True


