"""Webhook delivery task (django-tasks, queue "webhooks"): thin, safe to run twice."""

from django_tasks import task

from tradeline.hooks.delivery import delivery_attempt


@task(queue_name="webhooks")
def deliver_webhook(delivery_id: str) -> str:
    """One attempt; a failed one enqueues the next at its time on the backoff schedule."""
    outcome = delivery_attempt(delivery_id=delivery_id)
    if outcome.retry_at is not None:
        deliver_webhook.using(run_after=outcome.retry_at).enqueue(delivery_id=delivery_id)
    return outcome.status
