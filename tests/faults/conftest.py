"""Fault-matrix helpers: paid orders of the simulator's tradelines, the real task workers of both task
backends (database queue, Celery on the broker), checks."""

import socket
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.management import call_command
from django.test import TestCase
from django_tasks_db.models import DBTaskResult

from tradeline.fulfillment.tasks import fulfil_order
from tradeline.ledger.reconcile import reconcile_run
from tradeline.orders.models import Order
from tradeline.testing.factories import supplier_of
from tradeline.testing.processes import log_file

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def worker_in_test_transaction(monkeypatch):
    # The worker closes "old" connections between tasks; inside a test's transaction that would close
    # the test's own connection. The worker is otherwise run unchanged.
    monkeypatch.setattr("django_tasks_db.management.commands.db_worker.close_old_connections", lambda: None)


def run_worker() -> None:
    """`tradeline db_worker --batch`: runs every due task, then returns (after-commit work included)."""
    with TestCase.captureOnCommitCallbacks(execute=True):
        call_command("db_worker", batch=True, queue_name="*", startup_delay=False, reload=False, verbosity=0)


def supplier_orders_for(supplier_sim, order: Order) -> list[dict]:
    return [o for o in supplier_sim.orders()
            if any(m.get("key") == "platform_order_id" and m.get("value") == str(order.pk)
                   for m in o.get("meta_data", []))]


def assert_fulfilled_once(supplier_sim, orders: list[Order]) -> None:
    """Every order COMPLETED with exactly one supplier order, the one it recorded; nothing else placed."""
    for order in orders:
        order.refresh_from_db()
        placed = supplier_orders_for(supplier_sim, order)
        assert (order.status, len(placed)) == ("COMPLETED", 1), order.order_number
        assert supplier_of(order).supplier_order_id == str(placed[0]["id"])
    assert len(supplier_sim.orders()) == len(orders)


def assert_books_balance() -> None:
    report = reconcile_run(stripe=False)
    assert [d.line() for d in report.discrepancies] == []


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class DatabaseQueue:
    """The database task backend: `tradeline db_worker` processes, tasks as rows."""

    name = "database"

    def env(self) -> dict[str, str]:
        return {}

    def start_worker(self, env: dict) -> subprocess.Popen:
        with log_file("db-worker") as log:
            return subprocess.Popen([sys.executable, "-m", "tradeline", "db_worker", "--queue-name", "*",
                                     "--no-startup-delay", "--interval", "0.2", "--no-reload"],
                                    env=env, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=log, text=True,
                                    start_new_session=True)

    def ready(self) -> int:
        """Fulfillment tasks waiting for a worker."""
        return DBTaskResult.objects.filter(task_path=fulfil_order.module_path, status="READY").count()

    def age_running_tasks(self, started_at) -> None:
        DBTaskResult.objects.filter(status="RUNNING").update(started_at=started_at)


class BrokerQueue:
    """The Celery backend on the message broker: `celery … worker` processes, tasks as messages."""

    name = "celery"

    def __init__(self, celery_tasks):
        self.celery = celery_tasks

    def env(self) -> dict[str, str]:
        return self.celery.env()

    def start_worker(self, env: dict) -> subprocess.Popen:
        return self.celery.start_worker(env)

    def ready(self) -> int:
        return self.celery.message_count("fulfillment")

    def age_running_tasks(self, started_at) -> None:
        pass  # the broker knows no start times: a dead worker's message is simply delivered again


@pytest.fixture(params=["database", "celery"])
def task_queue(request):
    """Each test using it runs on both task backends."""
    if request.param == "database":
        return DatabaseQueue()
    return BrokerQueue(request.getfixturevalue("celery_tasks"))
