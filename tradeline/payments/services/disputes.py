"""Disputes (chargebacks): `charge.dispute.created` holds the broker's commission; the dispute
closing lost claws it back like a full refund, won (or warning_closed: no money withdrawn)
releases it. Keyed on the order's dispute state (Stripe allows one dispute per charge), so a
repeated or late event changes nothing."""

from django.db import transaction

from tradeline.audit.models import ActorType
from tradeline.audit.services import activity_log
from tradeline.orders.models import DisputeStatus
from tradeline.payments.services.common import order_get_locked
from tradeline.payouts.services import commission_dispute_closed, commission_hold_for_dispute


def order_dispute_opened(*, order_id, dispute_id: str = "", reason: str = "", amount: int | None = None) -> bool:
    """NONE -> OPEN and the commission held. False when the dispute was already known."""
    with transaction.atomic():
        order = order_get_locked(order_id)
        if order.dispute_status != DisputeStatus.NONE:
            return False
        order.dispute_status = DisputeStatus.OPEN
        order.save(update_fields=["dispute_status", "updated_at"])
        commission_hold_for_dispute(order=order)
        activity_log(action="order.dispute_opened", entity=order, broker=order.broker, actor_type=ActorType.STRIPE,
                     metadata={"order_number": order.order_number, "dispute": dispute_id, "reason": reason[:100],
                               "amount": amount})
    return True


def order_dispute_closed(*, order_id, won: bool, dispute_id: str = "", status: str = "") -> bool:
    """OPEN -> WON / LOST with the commission released / clawed back. A close that arrives before
    the open event is applied as both. False when the dispute was already closed."""
    with transaction.atomic():
        order = order_get_locked(order_id)
        if order.dispute_status in (DisputeStatus.WON, DisputeStatus.LOST):
            return False
        if order.dispute_status == DisputeStatus.NONE:
            commission_hold_for_dispute(order=order)
        order.dispute_status = DisputeStatus.WON if won else DisputeStatus.LOST
        order.save(update_fields=["dispute_status", "updated_at"])
        commission_dispute_closed(order=order, won=won)
        activity_log(action="order.dispute_won" if won else "order.dispute_lost", entity=order, broker=order.broker,
                     actor_type=ActorType.STRIPE,
                     metadata={"order_number": order.order_number, "dispute": dispute_id, "status": status})
    return True
