"""Processes and connections dying under us (PostgreSQL):

- the task worker (`tradeline db_worker`, or a Celery worker on the broker: a real subprocess)
  SIGKILLed while the supplier is creating the order, restarted, and the sweep
  (`tradeline reconcile_fulfillment`) run: exactly one supplier order, on both task backends;
- the database connection of the web server killed (pg_terminate_backend) while it handles a
  webhook: the delivery gets a 5xx, Stripe's retry succeeds, nothing is doubled.
"""

import os
import signal
import threading
import time
from datetime import timedelta

import psycopg
import pytest
from django.conf import settings
from django.core.management import call_command
from django.db import connection
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from tests.faults.conftest import assert_books_balance, supplier_orders_for
from tradeline.audit.models import ActivityLog
from tradeline.fulfillment.services import lease_seconds
from tradeline.orders.models import Order
from tradeline.payments.models import WebhookEvent
from tradeline.payments.services import PaidOutcome, order_payment_record
from tradeline.payments.tests import sim
from tradeline.payouts.models import CommissionRecord
from tradeline.testing.factories import supplier_of
from tradeline.fulfillment.models import SupplierOrder
from tradeline.testing.celery import kill_worker

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

WEBHOOK_PATH = "/api/orders/webhook/stripe"


def database_url() -> str:
    db = connection.settings_dict
    password = f":{db['PASSWORD']}" if db.get("PASSWORD") else ""
    return f"postgres://{db['USER']}{password}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"


def process_env(**extra) -> dict:
    """The environment of a subprocess working on this test's database and simulators."""
    env = {**os.environ, "DATABASE_URL": database_url(), "LOG_LEVEL": "WARNING", "DEBUG": "false",
           "TRADELINE_API_URL": settings.TRADELINE_API_URL or "",
           "TRADELINE_CONSUMER_KEY": settings.TRADELINE_CONSUMER_KEY or "",
           "TRADELINE_CONSUMER_SECRET": settings.TRADELINE_CONSUMER_SECRET or "",
           "STRIPE_API_BASE": settings.STRIPE_API_BASE or "", "STRIPE_SECRET_KEY": settings.STRIPE_SECRET_KEY or "",
           "STRIPE_WEBHOOK_SECRET": settings.STRIPE_WEBHOOK_SECRET or "",
           # mail kept in memory: the console backend would print every message into the process's output
           "EMAIL_BACKEND": "django.core.mail.backends.locmem.EmailBackend"}
    env.update({k: str(v) for k, v in extra.items()})
    return env


def wait_for(condition, *, timeout: float, what: str, step: float = 0.1):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(step)
    raise AssertionError(f"timed out after {timeout}s waiting for {what}")


def test_worker_killed_mid_fulfillment_and_restarted_places_one_supplier_order(task_queue, make_broker, make_order,
                                                                                supplier_sim):
    broker = make_broker(share="10", markup_percent="20")
    order = make_order(broker=broker, prices=(100_000,), customer_name="Ada Lovelace")
    order.items.update(card_id=supplier_sim.card_ids()[0])
    # The supplier creates the order, then sits on the answer: the kill lands inside that call.
    supplier_sim.set_faults(lost_response=True, methods=["POST"], path_prefix="/orders", count=1, hang_seconds=60)
    env = process_env(TRADELINE_TIMEOUT_SECONDS=20, TRADELINE_MAX_RETRIES=0, **task_queue.env())
    assert order_payment_record(order_id=order.pk, amount=order.total_charged, currency="usd", method="STRIPE",
                                payment_intent=f"pi_{order.pk.hex}") == PaidOutcome.PAID
    worker = task_queue.start_worker(env)
    try:
        wait_for(lambda: supplier_orders_for(supplier_sim, order), timeout=60, what="the supplier order")
        time.sleep(0.2)  # the worker is now waiting for the answer
        kill_worker(worker)
        assert worker.wait(timeout=10) == -signal.SIGKILL
    finally:
        if worker.poll() is None:
            kill_worker(worker)
    supplier_sim.clear_faults()
    order.refresh_from_db()
    assert (order.status, supplier_of(order).supplier_order_id, supplier_of(order).attempts) == ("PROCESSING", None, 1)
    if task_queue.name == "database":
        task = DBTaskResult.objects.get(task_path="tradeline.fulfillment.tasks.fulfil_order")
        assert task.status == "RUNNING"  # its worker is dead
        waiting = 0
    else:
        # The message was never acknowledged: the broker delivers it again to the next worker.
        waiting = wait_for(task_queue.ready, timeout=10, what="the broker to take the message back")
        assert waiting == 1

    # The sweep leaves the attempt alone while its lease runs ...
    call_command("reconcile_fulfillment", verbosity=0)
    assert task_queue.ready() == waiting
    # ... and takes over once it has run out (time moved on by the lease, not waited for).
    past = timezone.now() - timedelta(seconds=lease_seconds() + 1)
    SupplierOrder.objects.filter(order_id=order.pk).update(leased_until=past)
    task_queue.age_running_tasks(past)
    call_command("reconcile_fulfillment", verbosity=0)
    assert wait_for(lambda: task_queue.ready() == waiting + 1, timeout=10, what="the re-enqueued task")

    worker = task_queue.start_worker(env)
    try:
        wait_for(lambda: Order.objects.get(pk=order.pk).status == "COMPLETED", timeout=60, what="the restarted worker")
        wait_for(lambda: task_queue.ready() == 0, timeout=30, what="the queue to drain")
    finally:
        worker.terminate()
        worker.wait(timeout=20)
    order.refresh_from_db()
    placed = supplier_orders_for(supplier_sim, order)
    assert len(placed) == 1 and len(supplier_sim.orders()) == 1
    assert supplier_of(order).supplier_order_id == str(placed[0]["id"])
    assert ActivityLog.objects.get(action="order.fulfilled", entity_id=str(order.pk)).metadata["found_existing"]
    assert_books_balance()


def _backend_waiting_for_a_lock(exclude_pid: int) -> int | None:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid() "
            "AND pid <> %s AND wait_event_type = 'Lock'", [exclude_pid])
        row = cursor.fetchone()
    return row[0] if row else None


def test_database_connection_dropped_during_a_webhook_then_the_retry_succeeds(live_server, stripe_sim, make_broker,
                                                                              make_order):
    broker = make_broker(share="10", markup_percent="20")
    order = make_order(broker=broker, prices=(100_000,))
    session_id = sim.open_session(order)
    stripe_sim.pay(session_id, deliver=False)
    completed = stripe_sim.last_event("checkout.session.completed")
    stripe_sim.set_webhook_url(live_server.url + WEBHOOK_PATH)

    # Another session holds the order's row lock, so the handler stops inside its transaction, where
    # its connection is then terminated.
    with psycopg.connect(database_url().replace("postgres://", "postgresql://"), autocommit=False) as blocker:
        blocker.execute("SELECT id FROM orders_order WHERE id = %s FOR UPDATE", [order.pk])
        blocker_pid = blocker.info.backend_pid
        first: dict = {}
        delivery = threading.Thread(target=lambda: first.update(stripe_sim.resend(completed["id"])))
        delivery.start()
        victim = wait_for(lambda: _backend_waiting_for_a_lock(blocker_pid), timeout=20, what="the webhook's lock wait")
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_terminate_backend(%s)", [victim])
        delivery.join(timeout=30)
        blocker.rollback()
    assert first["status"] >= 500, first
    order.refresh_from_db()
    assert (order.status, CommissionRecord.objects.filter(order=order).count()) == ("PENDING", 0)

    # Stripe retries the delivery (signed anew): processed once.
    retry = stripe_sim.resend(completed["id"])
    assert retry["status"] == 200, retry
    order.refresh_from_db()
    assert order.status == "PROCESSING"
    assert CommissionRecord.objects.filter(order=order).count() == 1
    assert ActivityLog.objects.filter(action="order.paid", entity_id=str(order.pk)).count() == 1
    assert WebhookEvent.objects.get(event_id=completed["id"]).status == "PROCESSED"
    # A further copy is a duplicate; the ledger agrees with Stripe.
    assert stripe_sim.resend(completed["id"])["status"] == 200
    assert CommissionRecord.objects.filter(order=order).count() == 1
    from tradeline.ledger.reconcile import reconcile_run

    report = reconcile_run(stripe=True)
    assert [d.line() for d in report.discrepancies] == []
