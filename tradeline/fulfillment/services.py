"""Placing a paid order at the supplier, outside any payment transaction.

Each paid order has one SupplierOrder row (made by the paid transition, see fulfillment_start).
An attempt:
1. claim — one conditional UPDATE of the SupplierOrder: the order is PROCESSING, not placed, due
   (no lease held, backoff over) and its attempt counter is still the one we read; the counter
   goes up and a lease (`leased_until`) keeps other workers away while we talk to the supplier;
2. the supplier — no transaction, no row lock: look for an order already placed for ours
   (a timeout may have hidden a success), else create it;
3. record — one short transaction, order locked first (docs/domain.md "Lock order"): the supplier
   order id is stored (unique) and the order COMPLETED, or the next attempt is scheduled with
   exponential backoff (FULFILLMENT_BACKOFF_SECONDS * 2^(n-1)), or after FULFILLMENT_MAX_ATTEMPTS /
   a rejected order the SupplierOrder is FAILED for an admin (activity log + email to ADMIN_EMAILS).
The payment is never touched here. The order's `fulfillment_status` summary is computed here from
the SupplierOrder and saved through orders.services.order_transition (docs/domain.md "Summaries").
"""

import logging
from datetime import datetime, timedelta
from enum import StrEnum

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone

from tradeline.audit.models import ActorType
from tradeline.audit.services import activity_log
from tradeline.core.errors import Conflict, NotFound
from tradeline.fulfillment import emails
from tradeline.fulfillment.models import SupplierOrder
from tradeline.orders.models import FulfillmentStatus, Order, OrderStatus
from tradeline.orders.services import order_transition

logger = logging.getLogger(__name__)

LIVE_TASK_STATUSES = ("READY", "RUNNING")


class FulfillmentOutcome(StrEnum):
    COMPLETED = "COMPLETED"
    SKIPPED = "SKIPPED"  # not due, already placed, not paid, or another worker holds it
    RETRY_SCHEDULED = "RETRY_SCHEDULED"
    FAILED = "FAILED"  # gave up: an admin must retry or refund


def lease_seconds() -> float:
    """How long a claimed attempt keeps other workers away: enough for a search and a create."""
    return float(settings.TRADELINE_TIMEOUT_SECONDS) * 4 + 30


def backoff_seconds(attempt: int) -> int:
    return int(settings.FULFILLMENT_BACKOFF_SECONDS) * 2 ** max(attempt - 1, 0)


def fulfillment_enqueue(*, order: Order, run_after: datetime | None = None) -> None:
    """Enqueue the fulfillment task. Call inside the transaction that makes the order due: with the
    database task backend the task row commits (or rolls back) with it."""
    from tradeline.fulfillment.tasks import fulfil_order

    task = fulfil_order.using(run_after=run_after) if run_after is not None else fulfil_order
    task.enqueue(order_id=str(order.pk))


def fulfillment_start(*, order: Order) -> None:
    """In the paid transition: the order's SupplierOrder row (QUEUED) and its first task."""
    SupplierOrder.objects.bulk_create([SupplierOrder(order=order)], ignore_conflicts=True)
    fulfillment_enqueue(order=order)


def _claim(order_id) -> tuple[Order, SupplierOrder, int] | None:
    row = SupplierOrder.objects.select_related("order", "order__broker").filter(order_id=order_id).first()
    if row is None or row.order.status != OrderStatus.PROCESSING or row.supplier_order_id:
        return None
    if row.status in (FulfillmentStatus.FAILED, FulfillmentStatus.SUCCEEDED):
        return None
    now = timezone.now()
    attempt = row.attempts + 1
    claimed = SupplierOrder.objects.due(now).filter(pk=row.pk, attempts=row.attempts,
                                                    order__status=OrderStatus.PROCESSING).update(
        attempts=attempt, status=FulfillmentStatus.QUEUED, leased_until=now + timedelta(seconds=lease_seconds()),
        next_attempt_at=None, updated_at=now)
    if not claimed:
        return None
    return row.order, row, attempt


def _split_name(name: str) -> tuple[str, str]:
    parts = (name or "").split()
    if not parts:
        return "", ""
    return parts[0], " ".join(parts[1:])


def fulfillment_place(*, order_id) -> FulfillmentOutcome:
    """One fulfillment attempt for a paid order (see the module doc). Safe to run twice."""
    from tradeline.catalog.supplier.client import SupplierClient
    from tradeline.catalog.supplier.errors import SupplierError

    claim = _claim(order_id)
    if claim is None:
        return FulfillmentOutcome.SKIPPED
    order, _row, attempt = claim
    items = [(item.card_id, item.quantity) for item in order.items.all()]
    first_name, last_name = _split_name(order.customer_name)
    try:
        with SupplierClient.from_settings() as client:
            placed = client.find_order_for(platform_order_id=str(order.pk), customer_email=order.customer_email)
            found = placed is not None
            if placed is None:
                placed = client.create_order(
                    platform_order_id=str(order.pk), order_number=order.order_number,
                    customer_email=order.customer_email, first_name=first_name, last_name=last_name,
                    phone=order.customer_phone, items=items,
                )
    except SupplierError as exc:
        return _attempt_failed(order, attempt, exc)
    return _complete(order, attempt, supplier_order_id=placed.id, supplier_status=placed.status,
                     supplier_number=str(placed.raw.get("number") or placed.id), found=found)


def _complete(order: Order, attempt: int, *, supplier_order_id: str, supplier_status: str, supplier_number: str,
              found: bool) -> FulfillmentOutcome:
    now = timezone.now()
    try:
        with transaction.atomic():
            order = Order.objects.select_related("broker").locked(order.pk)
            row = SupplierOrder.objects.select_for_update(of=("self",)).get(order_id=order.pk)
            if row.supplier_order_id:
                return FulfillmentOutcome.SKIPPED  # another worker placed it
            row.supplier_order_id = supplier_order_id
            row.supplier_order_number = supplier_number[:64]
            row.supplier_status = supplier_status[:32]
            row.status = FulfillmentStatus.SUCCEEDED
            row.placed_at = now
            row.leased_until = row.next_attempt_at = None
            row.last_error = ""
            row.save()
            if order.status == OrderStatus.PROCESSING:
                order_transition(order=order, to=OrderStatus.COMPLETED, fulfillment_status=FulfillmentStatus.SUCCEEDED)
                activity_log(action="order.fulfilled", entity=order, broker_id=order.broker_id,
                             actor_type=ActorType.SUPPLIER,
                             metadata={"order_number": order.order_number, "supplier_order_id": supplier_order_id,
                                       "supplier_status": supplier_status, "attempt": attempt,
                                       "found_existing": found})
                transaction.on_commit(lambda: emails.send_order_completed(order_id=order.pk))
                return FulfillmentOutcome.COMPLETED
            # The order changed while we were at the supplier (refunded, held): keep the supplier
            # order id so an admin sees what was placed.
            reason = (f"Supplier order {supplier_order_id} was placed while the order became {order.status}: "
                      "check whether it must be cancelled at the supplier.")
            order_transition(order=order, fulfillment_status=FulfillmentStatus.SUCCEEDED,
                             review_reason=_joined(order.review_reason, reason))
            activity_log(action="order.fulfilled_after_change", entity=order, broker_id=order.broker_id,
                         actor_type=ActorType.SUPPLIER,
                         metadata={"order_number": order.order_number, "supplier_order_id": supplier_order_id,
                                   "status": order.status})
    except IntegrityError:
        logger.error("order %s: supplier order id %s already belongs to another order", order.pk, supplier_order_id)
        return _give_up(order, attempt, f"supplier order id {supplier_order_id} already belongs to another order")
    return FulfillmentOutcome.SKIPPED


def _joined(existing: str, reason: str) -> str:
    return f"{existing}\n{reason}".strip() if reason not in existing else existing


def _still_this_attempt(order: Order, attempt: int):
    """The SupplierOrder, only while this failed attempt still owns it: the order PROCESSING, no
    supplier order and no later attempt claimed. An update through it touches no row when anything
    moved on meanwhile."""
    return SupplierOrder.objects.filter(order_id=order.pk, order__status=OrderStatus.PROCESSING,
                                        supplier_order_id__isnull=True, attempts=attempt)


def _attempt_failed(order: Order, attempt: int, exc) -> FulfillmentOutcome:
    message = f"{exc.code}: {exc.message}"[:1000]
    logger.warning("order %s: fulfillment attempt %d failed (%s)", order.pk, attempt, exc.code)
    if not exc.retryable or attempt >= int(settings.FULFILLMENT_MAX_ATTEMPTS):
        return _give_up(order, attempt, message)
    delay = backoff_seconds(attempt)
    retry_after = getattr(exc, "retry_after", None)
    if isinstance(retry_after, int | float) and retry_after > delay:
        delay = int(retry_after) + 1
    now = timezone.now()
    when = now + timedelta(seconds=delay)
    with transaction.atomic():
        scheduled = _still_this_attempt(order, attempt).update(
            status=FulfillmentStatus.QUEUED, last_error=message, next_attempt_at=when, leased_until=None,
            updated_at=now)
        if not scheduled:
            return FulfillmentOutcome.SKIPPED
        fulfillment_enqueue(order=order, run_after=when)
        activity_log(action="order.fulfillment_retry_scheduled", entity=order, broker=order.broker,
                     metadata={"order_number": order.order_number, "attempt": attempt, "delay_seconds": delay,
                               "error": exc.code})
    return FulfillmentOutcome.RETRY_SCHEDULED


def _give_up(order: Order, attempt: int, message: str) -> FulfillmentOutcome:
    now = timezone.now()
    with transaction.atomic():
        order = Order.objects.select_related("broker").locked(order.pk)
        failed = _still_this_attempt(order, attempt).update(
            status=FulfillmentStatus.FAILED, last_error=message, next_attempt_at=None, leased_until=None,
            failed_at=now, updated_at=now)
        if not failed:
            return FulfillmentOutcome.SKIPPED
        order_transition(order=order, fulfillment_status=FulfillmentStatus.FAILED)
        activity_log(action="order.fulfillment_failed", entity=order, broker=order.broker,
                     metadata={"order_number": order.order_number, "attempts": attempt, "error": message[:300]})
        transaction.on_commit(lambda: emails.send_fulfillment_failed(order_id=order.pk))
    return FulfillmentOutcome.FAILED


# ----------------------------------------------------------------------------------------------
# Admin retry and the periodic sweep
# ----------------------------------------------------------------------------------------------


def _live_task_order_ids(order_ids=None) -> set[str]:
    """Order ids with a fulfillment task waiting or running (a RUNNING task older than the lease is
    considered dead: its worker crashed)."""
    from django_tasks_db.models import DBTaskResult

    from tradeline.fulfillment.tasks import fulfil_order

    stale = timezone.now() - timedelta(seconds=lease_seconds())
    rows = DBTaskResult.objects.filter(task_path=fulfil_order.module_path).filter(
        Q(status="READY") | Q(status="RUNNING", started_at__gte=stale)
    )
    wanted = {str(pk) for pk in order_ids} if order_ids is not None else set()
    result = set()
    for args in rows.values_list("args_kwargs", flat=True):
        order_id = str(((args or {}).get("kwargs") or {}).get("order_id") or "")
        if order_id and (order_ids is None or order_id in wanted):
            result.add(order_id)
    return result


def fulfillment_retry(*, order_id, admin) -> Order:
    """Admin: try the supplier again now, with a fresh set of attempts. For a paid order that is not
    placed yet and has no attempt scheduled or running (Conflict otherwise)."""
    with transaction.atomic():
        try:
            order = Order.objects.select_related("broker").locked(order_id)
        except (Order.DoesNotExist, ValueError, ValidationError):
            raise NotFound("Order not found.", code="ORDER_NOT_FOUND") from None
        row = SupplierOrder.objects.select_for_update(of=("self",)).filter(order_id=order.pk).first()
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
    "FulfillmentOutcome",
    "fulfillment_due_orders",
    "fulfillment_enqueue",
    "fulfillment_place",
    "fulfillment_reconcile",
    "fulfillment_retry",
    "fulfillment_start",
]
