"""Placing a paid order at the supplier, outside any payment transaction.

An attempt:
1. claim — one conditional UPDATE: the order is PROCESSING, not placed, due (no attempt in flight,
   backoff over) and its attempt counter is still the one we read; the counter goes up and a lease
   (`fulfillment_next_attempt_at`) keeps other workers away while we talk to the supplier;
2. the supplier — no transaction, no row lock: look for an order already placed for ours
   (a timeout may have hidden a success), else create it;
3. record — one short transaction: a conditional UPDATE completes the order (only one worker can;
   the unique supplier_order_id guards too), or schedules the next attempt with exponential backoff
   (FULFILLMENT_BACKOFF_SECONDS * 2^(n-1)), or after FULFILLMENT_MAX_ATTEMPTS / a rejected order
   marks the fulfillment FAILED for an admin (activity log + email to ADMIN_EMAILS).
The payment is never touched here.
"""

import logging
from datetime import timedelta
from enum import StrEnum

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone
from django_tasks.base import Task

from tradeline.audit.models import ActorType
from tradeline.audit.services import activity_log
from tradeline.catalog.supplier.client import SupplierClient
from tradeline.catalog.supplier.errors import SupplierError
from tradeline.fulfillment import emails
from tradeline.orders.models import FulfillmentStatus, Order, OrderStatus

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


def _claim(order_id) -> tuple[Order, int] | None:
    order = Order.objects.select_related("broker").filter(pk=order_id).first()
    if order is None or order.status != OrderStatus.PROCESSING or order.supplier_order_id:
        return None
    if order.fulfillment_status in (FulfillmentStatus.FAILED, FulfillmentStatus.SUCCEEDED):
        return None
    now = timezone.now()
    due = Q(fulfillment_next_attempt_at__isnull=True) | Q(fulfillment_next_attempt_at__lte=now)
    attempt = order.fulfillment_attempts + 1
    claimed = (
        Order.objects.filter(due, pk=order.pk, status=OrderStatus.PROCESSING, supplier_order_id__isnull=True,
                             fulfillment_attempts=order.fulfillment_attempts)
        .exclude(fulfillment_status__in=[FulfillmentStatus.FAILED, FulfillmentStatus.SUCCEEDED])
        .update(fulfillment_attempts=attempt, fulfillment_status=FulfillmentStatus.QUEUED,
                fulfillment_next_attempt_at=now + timedelta(seconds=lease_seconds()), updated_at=now)
    )
    if not claimed:
        return None
    return order, attempt


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
    order, attempt = claim
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
        return _attempt_failed(order, attempt, exc, requeue=requeue)
    return _complete(order, attempt, supplier_order_id=placed.id, supplier_status=placed.status, found=found)


def _complete(order: Order, attempt: int, *, supplier_order_id: str, supplier_status: str,
              found: bool) -> FulfillmentOutcome:
    now = timezone.now()
    try:
        with transaction.atomic():
            done = Order.objects.filter(pk=order.pk, status=OrderStatus.PROCESSING,
                                        supplier_order_id__isnull=True).update(
                status=OrderStatus.COMPLETED, fulfillment_status=FulfillmentStatus.SUCCEEDED,
                supplier_order_id=supplier_order_id, supplier_order_status=supplier_status[:32], completed_at=now,
                fulfillment_next_attempt_at=None, fulfillment_last_error="", updated_at=now,
            )
            if done:
                activity_log(action="order.fulfilled", entity=order, broker=order.broker,
                             actor_type=ActorType.SUPPLIER,
                             metadata={"order_number": order.order_number, "supplier_order_id": supplier_order_id,
                                       "supplier_status": supplier_status, "attempt": attempt,
                                       "found_existing": found})
                transaction.on_commit(lambda: emails.send_order_completed(order_id=order.pk))
                return FulfillmentOutcome.COMPLETED
            # The order changed while we were at the supplier (refunded, held): keep the supplier
            # order id so an admin sees what was placed.
            kept = Order.objects.filter(pk=order.pk, supplier_order_id__isnull=True).update(
                supplier_order_id=supplier_order_id, supplier_order_status=supplier_status[:32],
                fulfillment_next_attempt_at=None, updated_at=now)
            if kept:
                current = Order.objects.get(pk=order.pk)
                reason = (f"Supplier order {supplier_order_id} was placed while the order became {current.status}: "
                          "check whether it must be cancelled at the supplier.")
                Order.objects.filter(pk=order.pk).update(review_reason=_joined(current.review_reason, reason))
                activity_log(action="order.fulfilled_after_change", entity=order, broker=order.broker,
                             actor_type=ActorType.SUPPLIER,
                             metadata={"order_number": order.order_number, "supplier_order_id": supplier_order_id,
                                       "status": current.status})
    except IntegrityError:
        logger.error("order %s: supplier order id %s already belongs to another order", order.pk, supplier_order_id)
        return _give_up(order, attempt, f"supplier order id {supplier_order_id} already belongs to another order")
    return FulfillmentOutcome.SKIPPED


def _joined(existing: str, reason: str) -> str:
    return f"{existing}\n{reason}".strip() if reason not in existing else existing


def _still_this_attempt(order: Order, attempt: int):
    """The order, only while this failed attempt still owns it: PROCESSING, no supplier order and no
    later attempt claimed. An update through it touches no row when anything moved on meanwhile."""
    return Order.objects.filter(pk=order.pk, status=OrderStatus.PROCESSING, supplier_order_id__isnull=True,
                                fulfillment_attempts=attempt)


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
            fulfillment_status=FulfillmentStatus.QUEUED, fulfillment_last_error=message,
            fulfillment_next_attempt_at=when, updated_at=now)
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
        failed = _still_this_attempt(order, attempt).update(
            fulfillment_status=FulfillmentStatus.FAILED, fulfillment_last_error=message,
            fulfillment_next_attempt_at=None, updated_at=now)
        if not failed:
            return FulfillmentOutcome.SKIPPED
        activity_log(action="order.fulfillment_failed", entity=order, broker=order.broker,
                     metadata={"order_number": order.order_number, "attempts": attempt, "error": message[:300]})
        transaction.on_commit(lambda: emails.send_fulfillment_failed(order_id=order.pk))
    return FulfillmentOutcome.FAILED
