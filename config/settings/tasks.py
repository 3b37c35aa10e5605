"""Background tasks: django-tasks with the database backend (enqueued in the same transaction)."""

from config.settings.env import env_int, env_str

TASKS = {
    "default": {
        "BACKEND": env_str("TASKS_BACKEND", "django_tasks_db.DatabaseBackend"),
        "QUEUES": ["default", "fulfillment", "email", "webhooks"],
    }
}
FULFILLMENT_MAX_ATTEMPTS = env_int("FULFILLMENT_MAX_ATTEMPTS", 5)
FULFILLMENT_BACKOFF_SECONDS = env_int("FULFILLMENT_BACKOFF_SECONDS", 30)
