"""Background tasks: django-tasks; the database backend by default (enqueued in the same transaction),
Celery on RabbitMQ or Redis for a larger deployment (published after commit)."""

from config.settings.env import env_int, env_str

TASKS = {
    "default": {
        "BACKEND": env_str("TASKS_BACKEND", "django_tasks_db.DatabaseBackend"),
        "QUEUES": ["default", "fulfillment", "email", "webhooks"],
    }
}
FULFILLMENT_MAX_ATTEMPTS = env_int("FULFILLMENT_MAX_ATTEMPTS", 5)
FULFILLMENT_BACKOFF_SECONDS = env_int("FULFILLMENT_BACKOFF_SECONDS", 30)

# Celery backend (TASKS_BACKEND=tradeline.core.celery_backend.CeleryBackend): see docs/deployment.md.
CELERY_BROKER_URL = env_str("CELERY_BROKER_URL", "amqp://guest:guest@127.0.0.1:5672//")
CELERY_QUEUE_PREFIX = env_str("CELERY_QUEUE_PREFIX", "tradeline.")
CELERY_BROKER_CONNECT_TIMEOUT_SECONDS = env_int("CELERY_BROKER_CONNECT_TIMEOUT_SECONDS", 4)
# Redis as broker only: a message not acknowledged within this time is delivered again. Longer than
# the longest task and the longest run_after delay (fulfillment backoff), or tasks run twice early.
CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": env_int("CELERY_VISIBILITY_TIMEOUT_SECONDS", 3600)}

# Excess payments (money beyond the order's paying payment) are refunded by a task: retried with
# backoff EXCESS_REFUND_BACKOFF_SECONDS × 2^(n−1) up to EXCESS_REFUND_MAX_ATTEMPTS, then by the sweep;
# `tradeline reconcile` reports one still unrefunded after EXCESS_REFUND_GRACE_SECONDS.
EXCESS_REFUND_MAX_ATTEMPTS = env_int("EXCESS_REFUND_MAX_ATTEMPTS", 6)
EXCESS_REFUND_BACKOFF_SECONDS = env_int("EXCESS_REFUND_BACKOFF_SECONDS", 30)
EXCESS_REFUND_GRACE_SECONDS = env_int("EXCESS_REFUND_GRACE_SECONDS", 3_600)
