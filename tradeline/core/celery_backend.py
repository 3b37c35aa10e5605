"""Django Tasks on Celery: a task backend that publishes to a broker (RabbitMQ or Redis), and the one
Celery task that runs any Django Task in a Celery worker.

Select it with `TASKS_BACKEND=tradeline.core.celery_backend.CeleryBackend`; run workers with
`celery -A tradeline.core.celery_backend worker` (docs/deployment.md). Task code keeps using the
Django Tasks API only (`@task`, `.enqueue()`, `.using(run_after=...)`).

Delivery is at-least-once, never "exactly once":
- a task is published after the transaction that enqueued it commits (`transaction.on_commit`), so a
  worker never sees an order that was rolled back or not yet committed. A process that dies between
  the commit and the publish loses the message: the periodic sweeps (`reconcile_fulfillment`, ...)
  find the committed work that has no task and enqueue it again;
- a message is acknowledged after the task ran (`acks_late`), and given back to the broker when the
  worker process dies mid-task (`reject_on_worker_lost`), so a crash means "run again", never "lost".
Tasks are therefore idempotent (the fulfillment claim, unique supplier ids), as with the database queue.

django-tasks-celery (PyPI) targets Django 6's built-in `django.tasks` and Python 3.12+; this project pins
Django 5.2 with the django-tasks 0.12 backport on Python 3.11, hence this small backend on Celery's
public API.
"""

import logging
import os
from typing import Any

from celery import Celery
from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.module_loading import import_string
from django_tasks.backends.base import BaseTaskBackend
from django_tasks.base import Task, TaskResult, TaskResultStatus
from django_tasks.signals import task_enqueued
from django_tasks.utils import get_random_id
from kombu import Exchange, Queue

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

logger = logging.getLogger(__name__)

RUN_TASK = "tradeline.run_django_task"

app = Celery("tradeline")
app.conf.update(
    broker_url=settings.CELERY_BROKER_URL,
    broker_connection_retry_on_startup=True,
    broker_connection_timeout=settings.CELERY_BROKER_CONNECT_TIMEOUT_SECONDS,
    broker_transport_options=settings.CELERY_BROKER_TRANSPORT_OPTIONS,
    # At-least-once: ack after the task ran; a dead worker's message goes back to the queue.
    task_acks_late=True,
    task_reject_on_worker_lost=True,
    # One message at a time per worker process: nothing waits unacked behind a long task.
    worker_prefetch_multiplier=1,
    task_ignore_result=True,
    task_serializer="json",
    accept_content=["json"],
    task_publish_retry=True,
    task_publish_retry_policy={"max_retries": 3, "interval_start": 0, "interval_step": 0.2, "interval_max": 1},
    worker_hijack_root_logger=False,
    enable_utc=True,
)


def queue_names() -> list[str]:
    """The broker queues of the Django Tasks queues (prefixed: several deployments on one broker)."""
    return [settings.CELERY_QUEUE_PREFIX + name for name in settings.TASKS["default"]["QUEUES"]]


# A worker started with `celery -A tradeline.core.celery_backend worker` consumes all of them.
app.conf.task_queues = [Queue(name, Exchange(name, type="direct"), routing_key=name) for name in queue_names()]
app.conf.task_default_queue = queue_names()[0]


@app.task(name=RUN_TASK, acks_late=True, reject_on_worker_lost=True)
def run_django_task(module_path: str, args: list, kwargs: dict[str, Any], result_id: str) -> Any:
    """Run one Django Task in this worker (the body is the task's own function: thin, idempotent)."""
    task: Task = import_string(module_path)
    logger.info("task %s started (%s)", module_path, result_id)
    value = task.call(*args, **kwargs)
    logger.info("task %s finished (%s)", module_path, result_id)
    return value


class CeleryBackend(BaseTaskBackend):
    """Publishes each enqueued Django Task as a Celery message after the current transaction commits."""

    supports_defer = True
    supports_async_task = False
    supports_get_result = False
    supports_priority = False

    def enqueue(self, task: Task, args, kwargs) -> TaskResult:
        self.validate_task(task)
        result = TaskResult(
            task=task, id=get_random_id(), status=TaskResultStatus.READY, enqueued_at=None, started_at=None,
            last_attempted_at=None, finished_at=None, args=list(args), kwargs=dict(kwargs), backend=self.alias,
            errors=[], worker_ids=[],
        )
        # robust: a broker outage at publish time is logged, not raised into a request whose
        # transaction has already committed; the sweep re-enqueues the work.
        transaction.on_commit(lambda: self._publish(result), robust=True)
        return result

    def _publish(self, result: TaskResult) -> None:
        task = result.task
        run_django_task.apply_async(
            args=[task.module_path, result.args, result.kwargs, result.id], task_id=result.id,
            queue=settings.CELERY_QUEUE_PREFIX + task.queue_name, eta=task.run_after,
        )
        object.__setattr__(result, "enqueued_at", timezone.now())
        task_enqueued.send(type(self), task_result=result)


__all__ = ["CeleryBackend", "app", "queue_names", "run_django_task"]
