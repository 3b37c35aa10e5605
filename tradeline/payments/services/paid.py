"""Money coming in: the one "paid" transition (Stripe or manual), and the ways an order ends unpaid.

Every function here runs in one transaction with the order row locked (or as one conditional
UPDATE), so repeated and concurrent signals for the same order change it once. Nothing here talks
to Stripe or the supplier while a row is locked.

Decisions (DOMAIN.md "Order life cycle"):
- Only a PENDING order is paid. The amount and currency must equal the order's total; otherwise
  the money is recorded and the order goes ON_HOLD for review (no commission, no fulfillment).
- Money that arrives for an order that already ended unpaid (checkout expired, cancelled, async
  payment failed) is recorded and the order goes ON_HOLD: an admin refunds it or fulfils by hand.
- A second, different payment for an already paid order (e.g. a manual payment, then the customer
  also paid online) leaves the order as it is but sets `review_reason` for an admin.
"""

import functools
import logging
from enum import StrEnum

from django.db import connection, transaction
from django.db.transaction import TransactionManagementError
from django.utils import timezone

from tradeline.analytics.services import stats_increment
from tradeline.audit.models import ActorType
from tradeline.audit.services import activity_entry, activity_log, activity_log_many
from tradeline.core.db import update_returning
from tradeline.core.errors import ApplicationError, Conflict, NotFound, ValidationFailed
from tradeline.core.money import cents_to_usd
from tradeline.fulfillment.dispatch import fulfillment_enqueue
from tradeline.orders.models import FulfillmentStatus, Order, OrderStatus, PaymentMethod, PaymentStatus
from tradeline.payments import stripe_gateway
from tradeline.payments.services.common import PAID_PAYMENT_STATES, is_uuid, order_get_locked, review_reason_append
from tradeline.payments.services.refunds import deferred_refunds_apply, deferred_refunds_waiting
from tradeline.payouts.services import commission_create_for_order

logger = logging.getLogger(__name__)

MANUAL_METHODS = (PaymentMethod.CASH, PaymentMethod.WIRE, PaymentMethod.CHECK)
UNPAID_END_STATES = (OrderStatus.CANCELLED, OrderStatus.FAILED)
REFERENCE_MAX = 200
# The columns _record_money may change (saved with update_fields, not as a full row).
MONEY_FIELDS = ("amount_paid", "payment_status", "paid_at", "payment_method", "payment_reference",
                "paid_recorded_by", "stripe_payment_intent", "stripe_charge_id", "customer_name", "customer_phone")


class PaidOutcome(StrEnum):
    PAID = "PAID"  # this call made the paid transition
    ALREADY_PAID = "ALREADY_PAID"  # the same payment was recorded before: nothing changed
    HELD = "HELD"  # money recorded, order ON_HOLD for review (mismatch, or the order had ended unpaid)
    DOUBLE_PAYMENT = "DOUBLE_PAYMENT"  # a different second payment for a paid order: flagged for review


# What the paid transition and its followers (commission, audit, analytics, deferred refunds)
# read of the locked order; the rest of the wide row is not loaded (deferred, as with only()).
PAID_PATH_FIELDS = (
    "order_number", "broker", "status", "payment_status", "fulfillment_status", "dispute_status",
    "total_charged", "currency", "broker_revenue_share", "broker_markup", "amount_paid", "amount_refunded",
    "paid_at", "payment_method", "payment_reference", "paid_recorded_by", "stripe_payment_intent",
    "stripe_charge_id", "customer_name", "customer_phone", "review_reason", "supplier_order_id",
    "fulfillment_next_attempt_at", "refunded_at",
)


@functools.cache
def _lock_sql(checked: tuple[str, ...]) -> str:
    """SELECT one order's PAID_PATH_FIELDS by pk, FOR UPDATE, with a `<field>_taken` column per
    unique field in `checked`: whether another order already holds the value given for it (one
    %s each, before the pk's). Written out once per shape: the same query built with the ORM
    (only, annotate(Exists(..)), filter) costs more CPU on every paid event than running it."""
    qn = connection.ops.quote_name
    meta = Order._meta
    table, pk = qn(meta.db_table), qn(meta.pk.column)
    columns = [f"{table}.{pk}", *(f"{table}.{qn(meta.get_field(name).column)}" for name in PAID_PATH_FIELDS)]
    for field in checked:
        column = qn(meta.get_field(field).column)
        held = f"SELECT 1 FROM {table} other WHERE other.{column} = %s AND other.{pk} <> {table}.{pk}"
        columns.append(f"EXISTS ({held}) AS {qn(f'{field}_taken')}")
    lock = " FOR UPDATE" if connection.features.has_select_for_update else ""  # SQLite: BEGIN IMMEDIATE
    return f"SELECT {', '.join(columns)} FROM {table} WHERE {table}.{pk} = %s{lock}"


def _lock_order(order_id, **unique_values: str | None) -> Order | None:
    """The order row locked (its PAID_PATH_FIELDS loaded); None if there is none (the broker is not
    loaded: the audit entries take broker_id). For each of `unique_values` (stripe_payment_intent /
    stripe_charge_id) the same statement also answers whether another order already holds that
    value (see _free_unique). Call inside the paid transaction."""
    if not is_uuid(order_id):
        return None
    if not connection.in_atomic_block:
        raise TransactionManagementError("The order is locked only inside a transaction.")
    checked = {field: value for field, value in unique_values.items() if value}
    pk = Order._meta.pk.get_db_prep_value(order_id, connection)
    order = next(iter(Order.objects.raw(_lock_sql(tuple(checked)), [*checked.values(), pk])), None)
    if order is not None:
        order.unique_values_checked = checked
    return order


def _free_unique(field: str, value: str | None, order: Order) -> str | None:
    """`value` if no other order holds it in the unique column `field` (else None, logged)."""
    if not value:
        return None
    if getattr(order, "unique_values_checked", {}).get(field) == value:
        taken = getattr(order, f"{field}_taken")  # answered by the locking SELECT
    else:
        taken = Order.objects.filter(**{field: value}).exclude(pk=order.pk).exists()
    if taken:
        logger.warning("order %s: %s already belongs to another order; not stored", order.pk, field)
        return None
    return value


def _record_money(order: Order, *, amount: int, method: str, reference: str, payment_intent: str | None,
                  charge_id: str | None, customer_name: str, customer_phone: str, actor_user) -> None:
    order.amount_paid = amount
    order.payment_status = PaymentStatus.SUCCEEDED
    order.paid_at = timezone.now()
    order.payment_method = method
    order.payment_reference = (reference or payment_intent or "")[:REFERENCE_MAX]
    order.paid_recorded_by = actor_user
    if payment_intent and not order.stripe_payment_intent:
        order.stripe_payment_intent = _free_unique("stripe_payment_intent", payment_intent, order)
    if charge_id and not order.stripe_charge_id:
        order.stripe_charge_id = _free_unique("stripe_charge_id", charge_id, order)
    if customer_name and not order.customer_name:  # the name the customer typed wins over the card's
        order.customer_name = customer_name.strip()[:200]
    if customer_phone:
        order.customer_phone = customer_phone.strip()[:40]


def _mismatch(order: Order, amount: int, currency: str) -> str:
    problems = []
    if amount != order.total_charged:
        problems.append(f"amount received {cents_to_usd(amount)} != order total {cents_to_usd(order.total_charged)}")
    if (currency or "").lower() != (order.currency or "").lower():
        problems.append(f"currency {currency!r} != {order.currency!r}")
    return "; ".join(problems)


def _signal_for_settled_order(order: Order, *, amount: int, currency: str, method: str, reference: str,
                              payment_intent: str | None, charge_id: str | None, customer_name: str,
                              customer_phone: str, actor_user) -> PaidOutcome:
    """A paid signal for an order that is not PENDING (any more); never a manual one (_refusal)."""
    if order.payment_status not in PAID_PAYMENT_STATES:
        # The order ended unpaid (expired, cancelled, failed) and money arrived anyway.
        previous = order.status
        _record_money(order, amount=amount, method=method, reference=reference, payment_intent=payment_intent,
                      charge_id=charge_id, customer_name=customer_name, customer_phone=customer_phone,
                      actor_user=actor_user)
        order.status = OrderStatus.ON_HOLD
        review_reason_append(order, f"Payment of {cents_to_usd(amount)} {currency} received after the order "
                                     f"was {previous}: refund it or fulfil by hand.")
        order.save(update_fields=[*MONEY_FIELDS, "status", "review_reason", "updated_at"])
        activity_log(action="order.payment_after_close", entity=order, broker_id=order.broker_id,
                     actor_type=ActorType.STRIPE,
                     metadata={"order_number": order.order_number, "previous_status": previous, "amount": amount,
                               "currency": currency, "payment_intent": payment_intent or ""})
        return PaidOutcome.HELD
    same_payment = payment_intent is None or order.stripe_payment_intent == payment_intent
    if order.payment_method == PaymentMethod.STRIPE and same_payment:
        changed = []
        if payment_intent and not order.stripe_payment_intent:
            order.stripe_payment_intent = _free_unique("stripe_payment_intent", payment_intent, order)
            changed.append("stripe_payment_intent")
        if charge_id and not order.stripe_charge_id:
            order.stripe_charge_id = _free_unique("stripe_charge_id", charge_id, order)
            changed.append("stripe_charge_id")
        # payment_intent.succeeded often comes first; the session's customer details follow.
        if customer_name and not order.customer_name:
            order.customer_name = customer_name.strip()[:200]
            changed.append("customer_name")
        if customer_phone and customer_phone.strip()[:40] != order.customer_phone:
            order.customer_phone = customer_phone.strip()[:40]
            changed.append("customer_phone")
        if changed:
            order.save(update_fields=[*changed, "updated_at"])
        return PaidOutcome.ALREADY_PAID
    review_reason_append(order, f"A second payment of {cents_to_usd(amount)} {currency} "
                                 f"({payment_intent or reference}) arrived for an order already paid "
                                 f"by {order.payment_method}: refund it.")
    order.save(update_fields=["review_reason", "updated_at"])
    activity_log(action="order.double_payment", entity=order, broker_id=order.broker_id, actor_type=ActorType.STRIPE,
                 metadata={"order_number": order.order_number, "amount": amount, "currency": currency,
                           "payment_intent": payment_intent or "", "paid_by": order.payment_method})
    return PaidOutcome.DOUBLE_PAYMENT


def order_payment_record(*, order_id, amount: int, currency: str, method: str, reference: str = "",
                         payment_intent: str | None = None, charge_id: str | None = None,
                         customer_name: str = "", customer_phone: str = "", actor_user=None) -> PaidOutcome:
    """Record money received for an order; the paid transition happens here and only here.

    One transaction: lock the order; a PENDING order whose amount and currency match becomes
    PROCESSING / SUCCEEDED, gets its commission, the broker's UTC-day figures, an activity entry
    and its fulfillment task (a task row in the same transaction). Refunds that Stripe reported
    before this payment was known are applied right after, in the same transaction.
    """
    if not isinstance(amount, int) or isinstance(amount, bool) or amount < 0:
        raise ValidationFailed("The amount must be a non-negative number of cents.", code="INVALID_AMOUNT")
    currency = (currency or "").lower()
    # No savepoint of its own (savepoint=False): inside a caller's transaction (the webhook's
    # handler savepoint) an error rolls back with the caller's. The refusals are decided before
    # anything is written and raised after the block, so a caller may catch them and go on.
    with transaction.atomic(savepoint=False):
        order = _lock_order(order_id, stripe_payment_intent=payment_intent, stripe_charge_id=charge_id)
        refusal = _refusal(order, method)
        if refusal is None:
            return _payment_apply(order, amount=amount, currency=currency, method=method, reference=reference,
                                  payment_intent=payment_intent, charge_id=charge_id, customer_name=customer_name,
                                  customer_phone=customer_phone, actor_user=actor_user)
    raise refusal


def _refusal(order: Order | None, method: str) -> ApplicationError | None:
    if order is None:
        return NotFound("Order not found.", code="ORDER_NOT_FOUND")
    if order.status != OrderStatus.PENDING and method in MANUAL_METHODS:
        return Conflict(f"Only a PENDING order can be paid; this one is {order.status}.",
                        code="ORDER_NOT_PENDING", details={"status": order.status})
    return None


def _payment_apply(order: Order, *, amount: int, currency: str, method: str, reference: str,
                   payment_intent: str | None, charge_id: str | None, customer_name: str, customer_phone: str,
                   actor_user) -> PaidOutcome:
    """order_payment_record's work on the locked order (see there)."""
    money = dict(amount=amount, method=method, reference=reference, payment_intent=payment_intent,
                 charge_id=charge_id, customer_name=customer_name, customer_phone=customer_phone,
                 actor_user=actor_user)
    if order.status != OrderStatus.PENDING:
        return _signal_for_settled_order(order, currency=currency, **money)
    _record_money(order, **money)
    actor_type = ActorType.ADMIN if actor_user is not None else ActorType.STRIPE
    problem = _mismatch(order, amount, currency)
    if problem:
        order.status = OrderStatus.ON_HOLD
        review_reason_append(order, f"Payment does not match the order: {problem}.")
        order.save(update_fields=[*MONEY_FIELDS, "status", "review_reason", "updated_at"])
        activity_log(action="order.payment_mismatch", entity=order, broker_id=order.broker_id, actor_type=actor_type,
                     actor_user=actor_user,
                     metadata={"order_number": order.order_number, "amount": amount, "currency": currency,
                               "expected_amount": order.total_charged, "expected_currency": order.currency})
        return PaidOutcome.HELD
    order.status = OrderStatus.PROCESSING
    order.fulfillment_status = FulfillmentStatus.QUEUED
    order.fulfillment_next_attempt_at = None
    # The UPDATE also answers (RETURNING) whether refund reports wait for this payment: they are
    # rare, so they cost no statement of their own. Run after the order lock was taken, it sees
    # a report deferred by a transaction that held that lock.
    refunds_waiting = update_returning(
        order, update_fields=[*MONEY_FIELDS, "status", "fulfillment_status", "fulfillment_next_attempt_at",
                              "updated_at"],
        returning=deferred_refunds_waiting(),
    )
    activity: list = []  # the commission's entry and the order's, written in one INSERT
    commission_create_for_order(order=order, current=True, activity=activity)
    activity.append(activity_entry(
        action="order.paid", entity=order, broker_id=order.broker_id, actor_type=actor_type, actor_user=actor_user,
        metadata={"order_number": order.order_number, "amount": amount, "currency": currency, "method": method,
                  "reference": order.payment_reference}))
    activity_log_many(activity)
    fulfillment_enqueue(order=order)
    if order.broker_id is not None:
        # Last: the broker's daily row is shared by all its sales; hold its lock only briefly.
        stats_increment(broker_id=order.broker_id, day=order.paid_at.date(), orders_count=1,
                        total_sales=order.total_charged, revenue_share_earned=order.broker_revenue_share,
                        markup_earned=order.broker_markup)
    if refunds_waiting:
        deferred_refunds_apply(order=order)
    return PaidOutcome.PAID


def order_mark_paid(*, order_id, amount: int, currency: str, method: str, reference: str = "",
                    payment_intent: str | None = None, charge_id: str | None = None, customer_name: str = "",
                    customer_phone: str = "", actor_user=None) -> bool:
    """True only for the call that made the paid transition (see `order_payment_record`)."""
    outcome = order_payment_record(
        order_id=order_id, amount=amount, currency=currency, method=method, reference=reference,
        payment_intent=payment_intent, charge_id=charge_id, customer_name=customer_name,
        customer_phone=customer_phone, actor_user=actor_user,
    )
    return outcome == PaidOutcome.PAID


def order_checkout_expired(*, order_id, session_id: str) -> bool:
    """`checkout.session.expired`: a PENDING order whose own checkout session expired is CANCELLED.

    Keyed on the session: an expired payment-link session, or any session of an order that has a
    payment link or is already paid, changes nothing.
    """
    now = timezone.now()
    with transaction.atomic():
        updated = Order.objects.filter(
            pk=order_id, status=OrderStatus.PENDING, stripe_session_id=session_id, stripe_payment_link_id__isnull=True,
        ).update(status=OrderStatus.CANCELLED, payment_status=PaymentStatus.CANCELLED, cancelled_at=now,
                 cancellation_reason="checkout session expired", updated_at=now)
        if updated:
            order = Order.objects.select_related("broker").get(pk=order_id)
            activity_log(action="order.checkout_expired", entity=order, broker=order.broker,
                         actor_type=ActorType.STRIPE, metadata={"order_number": order.order_number})
    return bool(updated)


def order_async_payment_failed(*, order_id) -> bool:
    """`checkout.session.async_payment_failed`: the delayed payment was declined; PENDING -> FAILED."""
    now = timezone.now()
    with transaction.atomic():
        updated = Order.objects.filter(pk=order_id, status=OrderStatus.PENDING).update(
            status=OrderStatus.FAILED, payment_status=PaymentStatus.FAILED, updated_at=now)
        if updated:
            order = Order.objects.select_related("broker").get(pk=order_id)
            activity_log(action="order.payment_failed", entity=order, broker=order.broker,
                         actor_type=ActorType.STRIPE, metadata={"order_number": order.order_number})
    return bool(updated)


def order_payment_attempt_failed(*, order_id, payment_intent: str, code: str = "") -> bool:
    """`payment_intent.payment_failed`: logged only while the order is PENDING (the customer may
    try again in the same session); nothing changes."""
    order = Order.objects.select_related("broker").filter(pk=order_id).first()
    if order is None or order.status != OrderStatus.PENDING:
        return False
    activity_log(action="order.payment_attempt_failed", entity=order, broker=order.broker,
                 actor_type=ActorType.STRIPE,
                 metadata={"order_number": order.order_number, "payment_intent": payment_intent,
                           "code": code[:100]})
    return True


def manual_payment_record(*, order_id, method: str, reference: str, admin) -> Order:
    """An admin records a CASH / WIRE / CHECK payment of the full total for a PENDING order: the
    same paid transition as Stripe (commission, analytics, fulfillment), admin and reference kept.
    After the commit the order's open Checkout Session is expired (best effort), so the customer
    cannot pay a second time online."""
    method = (method or "").upper()
    if method not in MANUAL_METHODS:
        raise ValidationFailed("payment_method must be CASH, WIRE or CHECK.", code="INVALID_PAYMENT_METHOD",
                               details={"field": "payment_method"})
    reference = " ".join(str(reference or "").split())
    if not reference:
        raise ValidationFailed("A reference (receipt, wire or check number) is required.",
                               code="REFERENCE_REQUIRED", details={"field": "reference"})
    if len(reference) > REFERENCE_MAX:
        raise ValidationFailed(f"The reference is longer than {REFERENCE_MAX} characters.",
                               code="REFERENCE_TOO_LONG", details={"field": "reference"})
    order = Order.objects.filter(pk=order_id).first() if is_uuid(order_id) else None
    if order is None:
        raise NotFound("Order not found.", code="ORDER_NOT_FOUND")
    order_payment_record(order_id=order.pk, amount=order.total_charged, currency=order.currency, method=method,
                         reference=reference, actor_user=admin)
    order.refresh_from_db()
    if order.stripe_session_id:
        try:
            stripe_gateway.expire_checkout_session(order.stripe_session_id)
        except Exception as exc:  # the session expires by itself; a later online payment is flagged
            logger.warning("could not expire checkout session of order %s: %s", order.pk, getattr(exc, "code", exc))
    return order


def payment_link_create(*, order_id, admin) -> Order:
    """A Stripe payment link for a PENDING order (Conflict for any other status). Asking again
    returns the stored link. Stripe is called outside the transaction; the link is stored only if
    the order is still PENDING when Stripe answers."""
    order = Order.objects.filter(pk=order_id).first() if is_uuid(order_id) else None
    if order is None:
        raise NotFound("Order not found.", code="ORDER_NOT_FOUND")
    _require_pending_for_link(order)
    if order.stripe_payment_link_id:
        return order
    link = stripe_gateway.create_payment_link(order=order)
    with transaction.atomic():
        order = order_get_locked(order.pk)
        if order.stripe_payment_link_id:
            return order
        if order.status != OrderStatus.PENDING:
            logger.warning("order %s left PENDING while its payment link %s was made; link not stored",
                           order.pk, link.id)
            _require_pending_for_link(order)
        order.stripe_payment_link_id = link.id
        order.stripe_payment_link_url = link.url
        order.save(update_fields=["stripe_payment_link_id", "stripe_payment_link_url", "updated_at"])
        activity_log(action="order.payment_link_created", entity=order, actor_user=admin, broker=order.broker,
                     metadata={"order_number": order.order_number, "payment_link": link.id})
    return order


def _require_pending_for_link(order: Order) -> None:
    if order.status != OrderStatus.PENDING:
        raise Conflict(f"A payment link can only be made for a PENDING order; this one is {order.status}.",
                       code="ORDER_NOT_PENDING", details={"status": order.status})
