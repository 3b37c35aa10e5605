"""Putting excess payments on the refund queue: the enqueue in the paid transition, and the periodic
sweep that re-enqueues every excess payment still not refunded and with no refund task waiting or
running (a lost task, a worker that was down, the retries used up, Stripe refusing for a while).
The refund itself is services.excess; the task is tasks.refund_excess_payment."""

from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from tradeline.core.tasks import live_task_arguments
from tradeline.payments.models import Payment
from tradeline.payments.selectors import excess_payments_unrefunded
from tradeline.payments.tasks import refund_excess_payment


def excess_refund_enqueue(*, payment: Payment) -> None:
    """Enqueue the refund of an excess payment. Call inside the transaction that records it: with
    the database task backend the task row commits (or rolls back) with the payment."""
    refund_excess_payment.enqueue(payment_id=str(payment.pk), attempt=1)


def _live_task_payment_ids() -> set[str]:
    stale = timezone.now() - timedelta(seconds=int(settings.EXCESS_REFUND_BACKOFF_SECONDS) * 4 + 300)
    return live_task_arguments(refund_excess_payment, "payment_id", running_since=stale)


def excess_refund_sweep(*, limit: int = 500, dry_run: bool = False) -> list[str]:
    """Re-enqueue unrefunded excess payments that have no live refund task; returns their ids."""
    live = _live_task_payment_ids()
    picked = [str(pk) for pk in excess_payments_unrefunded().values_list("pk", flat=True)[
        : limit * 2] if str(pk) not in live][:limit]
    if not dry_run:
        for payment_id in picked:
            with transaction.atomic():
                refund_excess_payment.enqueue(payment_id=payment_id, attempt=1)
    return picked
