"""Fault-matrix helpers: paid orders of the simulator's tradelines, the real task worker, checks."""

import socket

import pytest
from django.core.management import call_command
from django.test import TestCase

from tradeline.ledger.reconcile import reconcile_run
from tradeline.orders.models import Order


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
        assert order.supplier_order_id == str(placed[0]["id"])
    assert len(supplier_sim.orders()) == len(orders)


def assert_books_balance() -> None:
    report = reconcile_run(stripe=False)
    assert [d.line() for d in report.discrepancies] == []


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]
