"""The Celery task backend (PostgreSQL, the real broker, real `celery worker` processes):

- the process that marks an order paid is SIGKILLed after its transaction committed and before the
  fulfillment task was published: nothing reaches the broker, and the sweep
  (`tradeline reconcile_fulfillment`) publishes it; a worker then places the order once;
- the supplier down for a whole run of attempts, then recovered: each order is given up on (nothing
  placed, payment and commission untouched), an admin retries, and each is placed exactly once.

(The worker SIGKILLed mid-task and the two-web-two-worker run are in test_processes_pg.py and
test_scale_out_pg.py, on both task backends.)
"""

import signal
import subprocess
import sys

import pytest
from django.core.management import call_command

from tests.faults.conftest import ROOT, assert_books_balance, assert_fulfilled_once, free_port, supplier_orders_for
from tests.faults.test_processes_pg import process_env, wait_for
from tradeline.fulfillment.dispatch import fulfillment_retry
from tradeline.orders.models import FulfillmentStatus, Order
from tradeline.payments.services import PaidOutcome, order_payment_record
from tradeline.payouts.models import CommissionRecord
from tradeline.testing.factories import supplier_of

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

# Marks one order paid, and dies (SIGKILL) right after the commit: the first after-commit callback
# is ours, registered before the payment's own, so the fulfillment task is never published.
PAY_THEN_DIE = """
import os, signal, sys
import django
django.setup()
from django.db import transaction
from tradeline.orders.models import Order
from tradeline.payments.services import order_payment_record
order = Order.objects.get(pk=sys.argv[1])
with transaction.atomic():
    transaction.on_commit(lambda: os.kill(os.getpid(), signal.SIGKILL))
    order_payment_record(order_id=order.pk, amount=order.total_charged, currency="usd", method="STRIPE",
                    payment_intent="pi_" + order.pk.hex)
print("still alive")
"""


def stop(worker: subprocess.Popen) -> None:
    worker.terminate()
    try:
        worker.wait(timeout=20)
    except subprocess.TimeoutExpired:
        worker.kill()


def test_process_killed_between_commit_and_publish_then_the_sweep_enqueues(celery_tasks, make_broker, make_order,
                                                                         supplier_sim):
    broker = make_broker(share="10", markup_percent="20")
    order = make_order(broker=broker, prices=(100_000,), customer_name="Ada Lovelace")
    order.items.update(card_id=supplier_sim.card_ids()[0])
    env = process_env(DJANGO_SETTINGS_MODULE="config.settings", **celery_tasks.env())

    payer = subprocess.run([sys.executable, "-c", PAY_THEN_DIE, str(order.pk)], env=env, cwd=ROOT,
                           capture_output=True, text=True, timeout=60)
    assert (payer.returncode, payer.stdout) == (-signal.SIGKILL, ""), payer.stderr
    order.refresh_from_db()
    # Committed: paid, commission recorded; but the task never reached the broker.
    assert (order.status, order.payment_status, order.fulfillment_status) == ("PROCESSING", "SUCCEEDED",
                                                                              FulfillmentStatus.QUEUED)
    assert CommissionRecord.objects.filter(order=order).count() == 1
    assert celery_tasks.message_count("fulfillment") == 0

    call_command("reconcile_fulfillment", verbosity=0)
    assert celery_tasks.message_count("fulfillment") == 1

    worker = celery_tasks.start_worker(env)
    try:
        wait_for(lambda: Order.objects.get(pk=order.pk).status == "COMPLETED", timeout=60, what="the worker")
    finally:
        stop(worker)
    order.refresh_from_db()
    assert len(supplier_orders_for(supplier_sim, order)) == 1
    assert_fulfilled_once(supplier_sim, [order])
    assert_books_balance()


def test_supplier_down_for_the_whole_run_then_recovered_places_each_order_once(celery_tasks, make_broker, make_order,
                                                                             supplier_sim, admin_user):
    broker = make_broker(share="15.5", markup_percent="12.25")
    cards = supplier_sim.card_ids()
    fast = dict(FULFILLMENT_MAX_ATTEMPTS=2, FULFILLMENT_BACKOFF_SECONDS=1, TRADELINE_MAX_RETRIES=0,
                TRADELINE_TIMEOUT_SECONDS=0.5, ADMIN_EMAILS="", **celery_tasks.env())
    down = process_env(**fast)
    down["TRADELINE_API_URL"] = f"http://127.0.0.1:{free_port()}/wp-json/wc/v3"  # nothing listens there
    worker = celery_tasks.start_worker(down)
    orders = []
    try:
        for n in range(3):
            order = make_order(broker=broker, prices=(100_000 + n,), customer_name="Ada Lovelace")
            order.items.update(card_id=cards[n])
            assert order_payment_record(order_id=order.pk, amount=order.total_charged, currency="usd",
                                        method="STRIPE", payment_intent=f"pi_{order.pk.hex}") == PaidOutcome.PAID
            orders.append(order)
        ids = [o.pk for o in orders]
        wait_for(lambda: Order.objects.filter(pk__in=ids, fulfillment_status=FulfillmentStatus.FAILED).count() == 3,
                 timeout=60, what="every attempt to fail", step=0.2)
    finally:
        stop(worker)
    for order in orders:
        order.refresh_from_db()
        assert (order.status, order.payment_status, supplier_of(order).attempts) == ("PROCESSING", "SUCCEEDED", 2)
        assert CommissionRecord.objects.filter(order=order).count() == 1
    assert supplier_sim.orders() == []

    # The supplier is back (the worker gets its real address); an admin retries what was given up.
    worker = celery_tasks.start_worker(process_env(**fast))
    try:
        for order in orders:
            fulfillment_retry(order_id=order.pk, admin=admin_user)
        wait_for(lambda: Order.objects.filter(pk__in=ids, status="COMPLETED").count() == 3, timeout=60,
                 what="the retried orders", step=0.2)
    finally:
        stop(worker)
    assert_fulfilled_once(supplier_sim, orders)
    assert_books_balance()
