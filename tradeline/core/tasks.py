"""What the database task queue holds, for the sweeps that re-enqueue lost work.

With the database backend every enqueued task is a row (django_tasks_db's DBTaskResult); a sweep
must not enqueue a second task for work that already has one waiting or running. With a broker
backend (Celery) there are no rows: nothing is reported live, and the sweeps' re-enqueues are
harmless because every task is idempotent."""

from datetime import datetime

from django.db.models import Q
from django_tasks_db.models import DBTaskResult


def live_task_arguments(task, argument: str, *, running_since: datetime) -> set[str]:
    """The values of keyword `argument` of `task`'s rows waiting (READY) or running since
    `running_since` (an older RUNNING row belongs to a worker that died)."""
    rows = DBTaskResult.objects.filter(task_path=task.module_path).filter(
        Q(status="READY") | Q(status="RUNNING", started_at__gte=running_since))
    values = (str(((args or {}).get("kwargs") or {}).get(argument) or "")
              for args in rows.values_list("args_kwargs", flat=True))
    return {value for value in values if value}
