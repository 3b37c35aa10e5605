"""The one call each business service makes when something a broker cares about happened (inside
its transaction; sent after the commit, see services.webhook_event_emit)."""

from functools import partial

from tradeline.hooks import payloads
from tradeline.hooks.models import EventType
from tradeline.hooks.services import webhook_event_emit


def order_event(order, type: str | None = None, *, previous_status: str | None = None) -> None:
    """`type` (order.paid / order.refunded / order.fulfilled) and, when the status moved from
    `previous_status`, order.status_changed."""
    if order.broker_id is None:
        return
    # Built after the commit, from this order object (its unloaded fields are read then, if needed).
    if type is not None:
        webhook_event_emit(broker_id=order.broker_id, type=type, data=partial(payloads.order_data, order))
    if previous_status is not None and previous_status != order.status:
        webhook_event_emit(broker_id=order.broker_id, type=EventType.ORDER_STATUS_CHANGED,
                           data=partial(_status_changed, order, order.status, previous_status))


def _status_changed(order, status: str, previous_status: str) -> dict:
    return {**payloads.order_data(order), "status": status, "previous_status": previous_status}


def commission_event(commission, type: str, *, clawback_total: int | None = None) -> None:
    webhook_event_emit(broker_id=commission.broker_id, type=type,
                       data=partial(payloads.commission_data, commission, clawback_total=clawback_total))


def payout_sent(payout) -> None:
    webhook_event_emit(broker_id=payout.broker_id, type=EventType.PAYOUT_SENT,
                       data=partial(payloads.payout_data, payout))
