"""Background tasks of payments (django-tasks, database backend, queue "default")."""

from datetime import timedelta

from django.conf import settings
from django.utils import timezone
from django_tasks import task

from tradeline.payments.services.excess import ExcessRefundOutcome, excess_refund_attempt


def excess_refund_backoff(attempt: int) -> timedelta:
    """EXCESS_REFUND_BACKOFF_SECONDS × 2^(attempt − 1)."""
    return timedelta(seconds=int(settings.EXCESS_REFUND_BACKOFF_SECONDS) * 2 ** max(attempt - 1, 0))


@task(queue_name="default")
def refund_excess_payment(payment_id: str, attempt: int = 1) -> str:
    """Give an excess payment back through Stripe (thin: the service does the work). A retryable
    failure enqueues this task again after a backoff, up to EXCESS_REFUND_MAX_ATTEMPTS; after that
    the periodic sweep picks the payment up again."""
    outcome = excess_refund_attempt(payment_id=payment_id)
    if outcome == ExcessRefundOutcome.RETRY and attempt < int(settings.EXCESS_REFUND_MAX_ATTEMPTS):
        refund_excess_payment.using(run_after=timezone.now() + excess_refund_backoff(attempt)).enqueue(
            payment_id=payment_id, attempt=attempt + 1)
    return outcome.value
