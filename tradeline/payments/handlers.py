"""Stripe event handlers: a dict from event type to function.

Each handler reads the event's object, finds our order and calls one service. Effects are keyed
on the object (the order's state, its session, payment intent, charge), never only on the event
id, so two different events meaning the same thing (checkout.session.completed and
payment_intent.succeeded) and repeated deliveries change the order once.

A handler returns a HandlerResult; it raises PermanentEventProblem for data that will never be
processable (unknown order, malformed amounts): the event is recorded NEEDS_REVIEW and the order,
if there is one, flagged. Database errors propagate (the sender retries).
"""

import uuid
from collections.abc import Callable
from dataclasses import dataclass

from django.db.models import Q

from tradeline.agreements.services import acceptance_stripe_consent
from tradeline.core.errors import NotFound, ValidationFailed
from tradeline.core.money import MAX_AMOUNT_CENTS, is_cents
from tradeline.evidence.services import dispute_case_opened
from tradeline.orders.models import Order, PaymentMethod
from tradeline.payments.models import Payment, WebhookEvent
from tradeline.payments.services import (
    DISPUTE_CLOSING_STATUSES,
    PaidOutcome,
    RefundOutcome,
    order_async_payment_failed,
    order_checkout_expired,
    order_dispute_closed,
    order_dispute_opened,
    order_payment_attempt_failed,
    order_payment_record,
    payment_charge_store,
    refund_total_apply,
)

Status = WebhookEvent.Status


@dataclass(frozen=True)
class HandlerResult:
    status: str
    order_id: uuid.UUID | None = None
    note: str = ""


class PermanentEventProblem(Exception):
    """The event can never be processed as it is (an admin must look): NEEDS_REVIEW, 200."""

    def __init__(self, message: str, order_id: uuid.UUID | None = None):
        super().__init__(message)
        self.order_id = order_id


# -- reading the event ----------------------------------------------------------------------------


def _object(event: dict) -> dict:
    obj = (event.get("data") or {}).get("object") if isinstance(event.get("data"), dict) else None
    if not isinstance(obj, dict):
        raise PermanentEventProblem("The event has no data.object.")
    return obj


def _id_of(value) -> str | None:
    """An id field that may be a string or an expanded object."""
    if isinstance(value, dict):
        value = value.get("id")
    return value if isinstance(value, str) and value else None


def _cents(obj: dict, *keys: str, order_id=None) -> int:
    """The first of `keys` holding an integer; it must be a possible amount (0..MAX_AMOUNT_CENTS)."""
    for key in keys:
        value = obj.get(key)
        if isinstance(value, int) and not isinstance(value, bool):
            if not is_cents(value):  # refused like any impossible amount: recorded for review, order untouched
                raise ValidationFailed(f"The event's {key} {str(value)[:40]} is outside 0..{MAX_AMOUNT_CENTS} cents.",
                                       code="INVALID_AMOUNT")
            return value
    raise PermanentEventProblem(f"The event has no integer {' / '.join(keys)}.", order_id)


def _metadata_order_id(obj: dict) -> str | None:
    metadata = obj.get("metadata")
    if not isinstance(metadata, dict):
        return None
    value = metadata.get("order_id")
    return value if isinstance(value, str) and value else None


def _metadata_order_uuid(obj: dict) -> uuid.UUID | None:
    """The order id named by metadata.order_id (not looked up); None if the event is not ours."""
    raw = _metadata_order_id(obj)
    if raw is None:
        return None
    try:
        return uuid.UUID(raw)
    except ValueError:
        raise PermanentEventProblem(f"metadata.order_id {raw[:64]!r} is not an order id.") from None


def _unknown_order(order_id: uuid.UUID) -> PermanentEventProblem:
    return PermanentEventProblem(f"Unknown order {order_id} in metadata.order_id.")


def _order_from_metadata(obj: dict) -> Order | None:
    """Our order named by metadata.order_id; None if the event is not ours (no order id).
    An order id we do not know is a permanent problem."""
    order_id = _metadata_order_uuid(obj)
    if order_id is None:
        return None
    order = Order.objects.filter(pk=order_id).only("pk").first()
    if order is None:
        raise _unknown_order(order_id)
    return order


def _order_for_charge(obj: dict, *, charge_id: str | None, payment_intent: str | None) -> Order | None:
    """Charges and disputes: metadata first, then the payment intent or charge we stored."""
    order = _order_from_metadata(obj)
    if order is not None:
        return order
    ids = Q(stripe_payment_intent=payment_intent) if payment_intent else Q(pk__in=[])
    if charge_id:
        ids |= Q(stripe_charge_id=charge_id)
    payment = Payment.objects.filter(ids).select_related("order").order_by("created_at").first()
    return payment.order if payment is not None else None


def _ignored(note: str) -> HandlerResult:
    return HandlerResult(Status.IGNORED, note=note)


def _paid_result(outcome: PaidOutcome, order_id: uuid.UUID) -> HandlerResult:
    if outcome == PaidOutcome.HELD:
        return HandlerResult(Status.NEEDS_REVIEW, order_id, note=f"payment {outcome.value.lower()}")
    if outcome == PaidOutcome.DOUBLE_PAYMENT:  # an excess payment: its refund is queued, nobody needs to act
        return HandlerResult(Status.PROCESSED, order_id, note="excess payment, refund queued")
    return HandlerResult(Status.PROCESSED, order_id, note=outcome.value.lower())


def _record_paid(order_id: uuid.UUID, *, amount: int, currency, payment_intent, charge_id=None, session_id=None,
                 details=None, unknown: PermanentEventProblem | None = None) -> HandlerResult:
    """`unknown`: what an order that does not exist is (the order was not looked up before)."""
    details = details if isinstance(details, dict) else {}
    try:
        outcome = order_payment_record(
            order_id=order_id, amount=amount, currency=currency if isinstance(currency, str) else "",
            method=PaymentMethod.STRIPE, payment_intent=payment_intent, charge_id=charge_id, session_id=session_id,
            customer_name=details.get("name") if isinstance(details.get("name"), str) else "",
            customer_phone=details.get("phone") if isinstance(details.get("phone"), str) else "",
        )
    except NotFound:
        raise unknown or PermanentEventProblem(f"Order {order_id} disappeared.") from None
    return _paid_result(outcome, order_id)


# -- checkout sessions -------------------------------------------------------------------------


def _intent_charge(intent: dict) -> str | None:
    """The intent's charge: `latest_charge` (id or object), or the first of `charges` (API versions
    before 2022-11-15 send that list instead)."""
    charge = _id_of(intent.get("latest_charge"))
    if charge is None and isinstance(intent.get("charges"), dict):
        rows = intent["charges"].get("data")
        charge = _id_of(rows[0]) if isinstance(rows, list) and rows else None
    return charge


def _session_amount(session: dict):
    """amount_total; when it is null, what the expanded payment intent received."""
    amount = session.get("amount_total")
    intent = session.get("payment_intent")
    if amount is None and isinstance(intent, dict) and intent.get("status") == "succeeded":
        amount = intent.get("amount_received")
    return amount


def _session_paid(event: dict, *, require_paid_status: bool) -> HandlerResult:
    session = _object(event)
    order_id = _metadata_order_uuid(session)
    amount = _session_amount(session)
    if (order_id is not None and (session.get("payment_status") == "paid" or not require_paid_status)
            and is_cents(amount)):
        # The usual paid event: order_payment_record's locking SELECT is the order's only lookup;
        # an order it does not find is the same permanent problem as below.
        return _record_paid(order_id, amount=amount, currency=session.get("currency"),
                            payment_intent=_id_of(session.get("payment_intent")), session_id=_id_of(session.get("id")),
                            details=session.get("customer_details"), unknown=_unknown_order(order_id))
    order = _order_from_metadata(session)
    if order is None:
        return _ignored("no order_id in metadata")
    if require_paid_status and session.get("payment_status") != "paid":
        # e.g. "unpaid" for a delayed payment method: async_payment_succeeded/_failed follows.
        return HandlerResult(Status.PROCESSED, order.pk, note=f"payment_status {session.get('payment_status')!r}")
    amount = _cents({"amount_total": _session_amount(session)}, "amount_total", order_id=order.pk)
    return _record_paid(order.pk, amount=amount, currency=session.get("currency"),
                        payment_intent=_id_of(session.get("payment_intent")), session_id=_id_of(session.get("id")),
                        details=session.get("customer_details"))


def on_checkout_session_completed(event: dict) -> HandlerResult:
    result = _session_paid(event, require_paid_status=True)
    session = _object(event)
    consent = (session.get("consent") or {}).get("terms_of_service") if isinstance(session.get("consent"), dict) \
        else None
    if consent and result.order_id is not None:
        # Stripe's own terms checkbox, kept with the order's agreement evidence (first value wins).
        acceptance_stripe_consent(order_id=result.order_id, session_id=_id_of(session.get("id")), consent=consent)
    return result


def on_checkout_session_async_payment_succeeded(event: dict) -> HandlerResult:
    return _session_paid(event, require_paid_status=False)


def on_checkout_session_async_payment_failed(event: dict) -> HandlerResult:
    order = _order_from_metadata(_object(event))
    if order is None:
        return _ignored("no order_id in metadata")
    changed = order_async_payment_failed(order_id=order.pk)
    return HandlerResult(Status.PROCESSED, order.pk, note="failed" if changed else "no change")


def on_checkout_session_expired(event: dict) -> HandlerResult:
    session = _object(event)
    order = _order_from_metadata(session)
    if order is None:
        return _ignored("no order_id in metadata")
    changed = order_checkout_expired(order_id=order.pk, session_id=str(session.get("id") or ""))
    return HandlerResult(Status.PROCESSED, order.pk, note="cancelled" if changed else "no change")


# -- payment intents ---------------------------------------------------------------------------


def on_payment_intent_succeeded(event: dict) -> HandlerResult:
    intent = _object(event)
    order = _order_from_metadata(intent)
    if order is None:
        return _ignored("no order_id in metadata")
    amount = _cents(intent, "amount_received", "amount", order_id=order.pk)
    return _record_paid(order.pk, amount=amount, currency=intent.get("currency"),
                        payment_intent=_id_of(intent.get("id")), charge_id=_intent_charge(intent))


def on_payment_intent_payment_failed(event: dict) -> HandlerResult:
    intent = _object(event)
    order = _order_from_metadata(intent)
    if order is None:
        return _ignored("no order_id in metadata")
    error = intent.get("last_payment_error") if isinstance(intent.get("last_payment_error"), dict) else {}
    code = error.get("decline_code") or error.get("code") or ""
    logged = order_payment_attempt_failed(order_id=order.pk, payment_intent=_id_of(intent.get("id")) or "",
                                          code=code if isinstance(code, str) else "")
    return HandlerResult(Status.PROCESSED, order.pk, note="attempt logged" if logged else "order not pending")


# -- charges: refunds and disputes --------------------------------------------------------------


def on_charge_refunded(event: dict) -> HandlerResult:
    charge = _object(event)
    charge_id = _id_of(charge.get("id"))
    payment_intent = _id_of(charge.get("payment_intent"))
    order = _order_for_charge(charge, charge_id=charge_id, payment_intent=payment_intent)
    if order is None:
        if payment_intent:
            # Possibly ours, with the payment not processed yet: kept, applied by the paid transition.
            return HandlerResult(Status.DEFERRED, note="no order knows this payment intent yet")
        return _ignored("no order for this charge")
    amount_refunded = _cents(charge, "amount_refunded", order_id=order.pk)
    if charge_id and payment_intent:
        payment_charge_store(order_id=order.pk, payment_intent=payment_intent, charge_id=charge_id)
    outcome = refund_total_apply(order_id=order.pk, amount_refunded=amount_refunded, payment_intent=payment_intent,
                                 charge_id=charge_id)
    if outcome == RefundOutcome.NOT_PAID:
        return HandlerResult(Status.DEFERRED, order.pk, note="order not paid yet")
    if outcome == RefundOutcome.EXCEEDS_PAID:
        return HandlerResult(Status.NEEDS_REVIEW, order.pk, note="refunded amount exceeds the payment")
    return HandlerResult(Status.PROCESSED, order.pk, note=outcome.value.lower())


def _dispute_order(dispute: dict) -> Order | None:
    return _order_for_charge(dispute, charge_id=_id_of(dispute.get("charge")),
                             payment_intent=_id_of(dispute.get("payment_intent")))


def on_charge_dispute_created(event: dict) -> HandlerResult:
    dispute = _object(event)
    order = _dispute_order(dispute)
    if order is None:
        return _ignored("no order for this charge")
    amount = dispute.get("amount") if isinstance(dispute.get("amount"), int) else None
    reason = dispute.get("reason") if isinstance(dispute.get("reason"), str) else ""
    changed = order_dispute_opened(order_id=order.pk, dispute_id=_id_of(dispute.get("id")) or "", reason=reason,
                                   amount=amount)
    if _id_of(dispute.get("id")):
        dispute_case_opened(order_id=order.pk, dispute=dispute)  # the case whose evidence we assemble
    return HandlerResult(Status.PROCESSED, order.pk, note="held" if changed else "no change")


def on_charge_dispute_closed(event: dict) -> HandlerResult:
    dispute = _object(event)
    order = _dispute_order(dispute)
    if order is None:
        return _ignored("no order for this charge")
    status = dispute.get("status")
    if status not in DISPUTE_CLOSING_STATUSES:
        raise PermanentEventProblem(f"Unexpected dispute status {str(status)[:32]!r}.", order.pk)
    changed = order_dispute_closed(order_id=order.pk, won=DISPUTE_CLOSING_STATUSES[status],
                                   dispute_id=_id_of(dispute.get("id")) or "", status=status)
    return HandlerResult(Status.PROCESSED, order.pk, note=f"dispute {status}" if changed else "no change")


HANDLERS: dict[str, Callable[[dict], HandlerResult]] = {
    "checkout.session.completed": on_checkout_session_completed,
    "checkout.session.async_payment_succeeded": on_checkout_session_async_payment_succeeded,
    "checkout.session.async_payment_failed": on_checkout_session_async_payment_failed,
    "checkout.session.expired": on_checkout_session_expired,
    "payment_intent.succeeded": on_payment_intent_succeeded,
    "payment_intent.payment_failed": on_payment_intent_payment_failed,
    "charge.refunded": on_charge_refunded,
    "charge.dispute.created": on_charge_dispute_created,
    "charge.dispute.closed": on_charge_dispute_closed,
}
