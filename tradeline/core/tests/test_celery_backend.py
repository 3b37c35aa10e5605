"""The Celery task backend against the real broker: published after commit, never on rollback, with the
task's queue, arguments and run_after; the worker-side task runs the Django Task's own function."""

from datetime import timedelta

import pytest
from django.db import transaction
from django.utils import timezone
from django_tasks import task
from django_tasks.base import TaskResultStatus
from django_tasks.exceptions import InvalidTaskError

from tradeline.core.celery_backend import RUN_TASK, CeleryBackend, run_django_task

pytestmark = pytest.mark.django_db

CALLS: list[tuple[str, int]] = []


@task(queue_name="email")
def remember(name: str, times: int) -> str:
    CALLS.append((name, times))
    return f"{name}x{times}"


def test_enqueue_publishes_nothing_until_the_transaction_commits(celery_tasks, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        result = remember.enqueue("ada", times=2)
        assert celery_tasks.message_count("email") == 0
    assert (result.status, result.backend, isinstance(result.task.get_backend(), CeleryBackend)) == (
        TaskResultStatus.READY, "default", True)
    [message] = celery_tasks.take("email")
    assert message.payload[0] == ["tradeline.core.tests.test_celery_backend.remember", ["ada"], {"times": 2},
                                  result.id]
    assert (message.headers["task"], message.headers["id"], message.headers["eta"]) == (RUN_TASK, result.id, None)
    assert celery_tasks.message_count("fulfillment") == celery_tasks.message_count("default") == 0


def test_a_rolled_back_enqueue_publishes_nothing(celery_tasks, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        try:
            with transaction.atomic():
                remember.enqueue("rolled back", times=1)
                raise RuntimeError("abort")
        except RuntimeError:
            pass
    assert callbacks == []
    assert celery_tasks.message_count("email") == 0


def test_run_after_becomes_the_message_eta(celery_tasks, django_capture_on_commit_callbacks):
    when = timezone.now() + timedelta(seconds=90)
    with django_capture_on_commit_callbacks(execute=True):
        remember.using(run_after=when).enqueue("later", times=1)
    [message] = celery_tasks.take("email")
    assert message.headers["eta"] == when.isoformat()


def test_a_queue_the_backend_does_not_know_is_refused(celery_tasks):
    with pytest.raises(InvalidTaskError, match="not-configured"):
        remember.using(queue_name="not-configured").enqueue("x", times=1)
    assert celery_tasks.message_count("default") == 0


def test_the_worker_task_runs_the_django_task_function():
    CALLS.clear()
    outcome = run_django_task.apply(args=["tradeline.core.tests.test_celery_backend.remember", ["bob"], {"times": 3},
                                          "r1"])
    assert (outcome.get(), CALLS) == ("bobx3", [("bob", 3)])
