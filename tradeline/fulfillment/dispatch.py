"""Putting paid orders on the fulfillment queue: enqueue, one attempt now, the admin retry and the
periodic sweep. The attempt itself (claim, supplier, record) is services.fulfillment_attempt; the
task that runs it is tasks.fulfil_order, which passes itself as the task to enqueue for a retry.
"""

from datetime import datetime, timedelta

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from tradeline.audit.services import activity_log
from tradeline.core.errors import Conflict, NotFound
from tradeline.core.tasks import live_task_arguments
from tradeline.fulfillment.models import SupplierOrder
from tradeline.fulfillment.services import FulfillmentOutcome, fulfillment_attempt, lease_seconds
from tradeline.fulfillment.tasks import fulfil_order
from tradeline.orders.models import FulfillmentStatus, Order, OrderStatus
from tradeline.orders.services import order_transition

LIVE_TASK_STATUSES = ("READY", "RUNNING")


def fulfillment_enqueue(*, order: Order, run_after: datetime | None = None) -> None:
    """Enqueue the fulfillment task. Call inside the transaction that makes the order due: with the
    database task backend the task row commits (or rolls back) with it."""
    task = fulfil_order.using(run_after=run_after) if run_after is not None else fulfil_order
    task.enqueue(order_id=str(order.pk))


def fulfillment_start(*, order: Order) -> None:
    """In the paid transition: the order's SupplierOrder row (QUEUED) and its first task."""
    SupplierOrder.objects.bulk_create([SupplierOrder(order=order)], ignore_conflicts=True)
    fulfillment_enqueue(order=order)


def fulfillment_place(*, order_id) -> FulfillmentOutcome:
    """One fulfillment attempt now, in this process (what the task runs); retries go to the queue."""
    return fulfillment_attempt(order_id=order_id, requeue=fulfil_order)


# ----------------------------------------------------------------------------------------------
# Admin retry and the periodic sweep
# ----------------------------------------------------------------------------------------------


def _live_task_order_ids(order_ids=None) -> set[str]:
    """Order ids with a fulfillment task waiting or running (a RUNNING task older than the lease is
    considered dead: its worker crashed)."""
    live = live_task_arguments(fulfil_order, "order_id",
                               running_since=timezone.now() - timedelta(seconds=lease_seconds()))
    return live if order_ids is None else live & {str(pk) for pk in order_ids}


def fulfillment_retry(*, order_id, admin) -> Order:
    """Admin: try the supplier again now, with a fresh set of attempts. For a paid order that is not
    placed yet and has no attempt scheduled or running (Conflict otherwise)."""
    with transaction.atomic():
        try:
            order = Order.objects.select_related("broker").locked(order_id)
        except (Order.DoesNotExist, ValueError, ValidationError):
            raise NotFound("Order not found.", code="ORDER_NOT_FOUND") from None
        row = SupplierOrder.objects.locked_of_order(order.pk)
        if order.status != OrderStatus.PROCESSING or row is None or row.supplier_order_id:
            raise Conflict(f"Only a paid order not yet placed at the supplier can be retried; this one is "
                           f"{order.status}.", code="NOT_RETRYABLE", details={"status": order.status})
        if row.status != FulfillmentStatus.FAILED and str(order.pk) in _live_task_order_ids([order.pk]):
            raise Conflict("A fulfillment attempt is already scheduled or running for this order.",
                           code="FULFILLMENT_SCHEDULED",
                           details={"next_attempt_at": row.next_attempt_at or row.leased_until})
        row.status = FulfillmentStatus.QUEUED
        row.attempts = 0
        row.next_attempt_at = row.leased_until = None
        row.save(update_fields=["status", "attempts", "next_attempt_at", "leased_until", "updated_at"])
        order_transition(order=order, fulfillment_status=FulfillmentStatus.QUEUED)
        fulfillment_enqueue(order=order)
        activity_log(action="order.fulfillment_retried", entity=order, actor_user=admin, broker_id=order.broker_id,
                     metadata={"order_number": order.order_number, "last_error": row.last_error[:300]})
    return order


def fulfillment_due_orders():
    """Paid orders not placed at the supplier, not given up on, whose next attempt is due."""
    due = SupplierOrder.objects.due(timezone.now())
    return (Order.objects.filter(status=OrderStatus.PROCESSING, supplier_order__in=due)
            .select_related("supplier_order", "broker").order_by("paid_at"))


def fulfillment_reconcile(*, dry_run: bool = False, limit: int = 1000, progress=None) -> list[Order]:
    """Re-enqueue due orders that have no live task (lost task row, crashed worker, a worker
    that was down). Returns the orders (re-)enqueued, at most `limit`."""
    candidates = list(fulfillment_due_orders()[: limit * 2])
    live = _live_task_order_ids([o.pk for o in candidates])
    picked = [o for o in candidates if str(o.pk) not in live][:limit]
    for n, order in enumerate(picked, 1):
        if not dry_run:
            with transaction.atomic():
                order = Order.objects.select_related("broker", "supplier_order").locked(order.pk)  # order first
                updated = SupplierOrder.objects.filter(order_id=order.pk, order__status=OrderStatus.PROCESSING,
                                                       supplier_order_id__isnull=True).update(
                    status=FulfillmentStatus.QUEUED, updated_at=timezone.now())
                if updated:
                    order_transition(order=order, fulfillment_status=FulfillmentStatus.QUEUED)
                    fulfillment_enqueue(order=order)
                    activity_log(action="order.fulfillment_requeued", entity=order, broker_id=order.broker_id,
                                 metadata={"order_number": order.order_number,
                                           "attempts": order.supplier_order.attempts})
        if progress is not None:
            progress(n, len(picked), order)
    return picked


__all__ = [
    "fulfillment_due_orders",
    "fulfillment_enqueue",
    "fulfillment_place",
    "fulfillment_reconcile",
    "fulfillment_retry",
    "fulfillment_start",
]
