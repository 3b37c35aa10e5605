"""Background tasks: django-tasks with the database backend (enqueued in the same transaction)."""

from config.settings.env import env_int, env_str

TASKS = {
    "default": {
        "BACKEND": env_str("TASKS_BACKEND", "django_tasks_db.DatabaseBackend"),
        "QUEUES": ["default", "fulfillment", "email"],
    }
}
FULFILLMENT_MAX_ATTEMPTS = env_int("FULFILLMENT_MAX_ATTEMPTS", 5)
FULFILLMENT_BACKOFF_SECONDS = env_int("FULFILLMENT_BACKOFF_SECONDS", 30)
# Excess payments (money beyond the order's paying payment) are refunded by a task: retried with
# backoff EXCESS_REFUND_BACKOFF_SECONDS × 2^(n−1) up to EXCESS_REFUND_MAX_ATTEMPTS, then by the sweep;
# `tradeline reconcile` reports one still unrefunded after EXCESS_REFUND_GRACE_SECONDS.
EXCESS_REFUND_MAX_ATTEMPTS = env_int("EXCESS_REFUND_MAX_ATTEMPTS", 6)
EXCESS_REFUND_BACKOFF_SECONDS = env_int("EXCESS_REFUND_BACKOFF_SECONDS", 30)
EXCESS_REFUND_GRACE_SECONDS = env_int("EXCESS_REFUND_GRACE_SECONDS", 3_600)
