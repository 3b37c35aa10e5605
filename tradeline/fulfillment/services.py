"""Placing a paid order at the supplier, outside any payment transaction.

Each paid order has one SupplierOrder row (made by the paid transition: dispatch.fulfillment_start).
The queue side (enqueue, admin retry, sweep) is in dispatch.py.
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
from datetime import timedelta
from enum import StrEnum

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone
from django_tasks.base import Task

from tradeline.audit.models import ActorType
from tradeline.audit.services import activity_log
from tradeline.catalog.supplier.client import SupplierClient
from tradeline.catalog.supplier.errors import SupplierError
from tradeline.fulfillment import emails
from tradeline.fulfillment.models import SupplierOrder
from tradeline.hooks import events as hook_events
from tradeline.hooks.models import EventType
from tradeline.orders.models import FulfillmentStatus, Order, OrderStatus
from tradeline.orders.services import order_transition

logger = logging.getLogger(__name__)


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


def fulfillment_attempt(*, order_id, requeue: Task) -> FulfillmentOutcome:
    """One fulfillment attempt for a paid order (see the module doc). Safe to run twice. A retry is
    scheduled by enqueueing `requeue` (the fulfillment task, which passes itself)."""
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
            if found:  # an order placed before is completed only if it is the one we asked for
                client.check(placed, platform_order_id=str(order.pk), items=items)
            if placed is None:
                placed = client.create_order(
                    platform_order_id=str(order.pk), order_number=order.order_number,
                    customer_email=order.customer_email, first_name=first_name, last_name=last_name,
                    phone=order.customer_phone, items=items,
                )
    except SupplierError as exc:
        return _attempt_failed(order, attempt, exc, requeue=requeue)
    return _complete(order, attempt, supplier_order_id=placed.id, supplier_status=placed.status,
                     supplier_number=str(placed.raw.get("number") or placed.id), found=found)


def _complete(order: Order, attempt: int, *, supplier_order_id: str, supplier_status: str, supplier_number: str,
              found: bool) -> FulfillmentOutcome:
    now = timezone.now()
    try:
        with transaction.atomic():
            order = Order.objects.select_related("broker").locked(order.pk)
            row = SupplierOrder.objects.locked_of_order(order.pk)
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
                hook_events.order_event(order, EventType.ORDER_FULFILLED)
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


def _attempt_failed(order: Order, attempt: int, exc, *, requeue: Task) -> FulfillmentOutcome:
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
        requeue.using(run_after=when).enqueue(order_id=str(order.pk))
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
