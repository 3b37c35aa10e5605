"""Disputes (chargebacks and inquiries) of the paying payment: `charge.dispute.created` holds the
broker's commission; `charge.dispute.closed` applies the rule of its closing status
(DISPUTE_CLOSING_STATUSES): lost claws it back like a full refund, the others release it. Keyed on
the payment's dispute state (Stripe allows one dispute per charge), so a repeated or late event
changes nothing. docs/domain.md "Disputes"."""

from django.db import transaction

from tradeline.audit.models import ActorType
from tradeline.audit.services import activity_log
from tradeline.orders.models import DisputeStatus, Order
from tradeline.orders.services import order_transition
from tradeline.payments.models import Payment
from tradeline.payments.services.common import order_locked, paying_payment_locked, payment_summary
from tradeline.payouts.services import commission_dispute_closed, commission_hold_for_dispute

# Every status a dispute can close with in the pinned API version -> whether the broker keeps the
# commission. won: the merchant won the chargeback. warning_closed: an inquiry closed without
# becoming a chargeback. prevented: the dispute was stopped before it became one (if the card
# network refunded the customer instead, that arrives as charge.refunded and is clawed back as a
# refund). lost: the money was withdrawn, clawed back in full. Open statuses (needs_response,
# under_review, warning_*, appeal_*) never close a dispute.
DISPUTE_CLOSING_STATUSES: dict[str, bool] = {"won": True, "warning_closed": True, "prevented": True, "lost": False}


def _set_dispute(order: Order, payment: Payment | None, status: str) -> None:
    """The dispute state on the paying payment and the order's summary of it."""
    if payment is None:  # a dispute on a charge we never recorded: the order's summary only
        order_transition(order=order, dispute_status=status)
        return
    payment.dispute_status = status
    payment.save(update_fields=["dispute_status", "updated_at"])
    order_transition(order=order, **payment_summary(payment))


def order_dispute_opened(*, order_id, dispute_id: str = "", reason: str = "", amount: int | None = None) -> bool:
    """NONE -> OPEN and the commission held. False when the dispute was already known."""
    with transaction.atomic():
        order = order_locked(order_id)
        if order.dispute_status != DisputeStatus.NONE:
            return False
        _set_dispute(order, paying_payment_locked(order), DisputeStatus.OPEN)
        commission_hold_for_dispute(order=order)
        activity_log(action="order.dispute_opened", entity=order, broker_id=order.broker_id,
                     actor_type=ActorType.STRIPE,
                     metadata={"order_number": order.order_number, "dispute": dispute_id, "reason": reason[:100],
                               "amount": amount})
    return True


def order_dispute_closed(*, order_id, won: bool, dispute_id: str = "", status: str = "") -> bool:
    """OPEN -> WON / LOST with the commission released / clawed back. A close that arrives before
    the open event is applied as both. False when the dispute was already closed."""
    with transaction.atomic():
        order = order_locked(order_id)
        if order.dispute_status in (DisputeStatus.WON, DisputeStatus.LOST):
            return False
        if order.dispute_status == DisputeStatus.NONE:
            commission_hold_for_dispute(order=order)
        _set_dispute(order, paying_payment_locked(order), DisputeStatus.WON if won else DisputeStatus.LOST)
        commission_dispute_closed(order=order, won=won)
        activity_log(action="order.dispute_won" if won else "order.dispute_lost", entity=order,
                     broker_id=order.broker_id, actor_type=ActorType.STRIPE,
                     metadata={"order_number": order.order_number, "dispute": dispute_id, "status": status})
    return True
