"""Supplier faults for the whole run, then recovery: every paid order is placed exactly once.

Already covered elsewhere: 500s for the whole run then an admin retry, and a lost response found
instead of re-ordered (tradeline/fulfillment/tests/test_fulfillment.py). Here: the supplier down
(connection refused), slow beyond our timeout on every call, slow only when creating orders (it
creates them, we time out), rate limited (429) and answering malformed JSON — each for every
attempt of the run; then the supplier recovers, an admin retries what was given up, and the ledger
still reconciles.
"""

import time

import pytest

from tests.faults.conftest import assert_books_balance, assert_fulfilled_once, free_port, run_worker
from tradeline.fulfillment.dispatch import fulfillment_retry
from tradeline.orders.models import FulfillmentStatus, OrderStatus, PaymentStatus
from tradeline.payments.services import PaidOutcome, order_payment_record
from tradeline.payouts.models import CommissionRecord
from tradeline.testing.factories import supplier_of

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("worker_in_test_transaction")]

ORDERS = 3
FAULTS = {
    "down": None,  # nothing listens at the supplier's address
    "slow": {"latency_ms": 800},
    "slow_create": {"latency_ms": 800, "methods": ["POST"], "path_prefix": "/orders"},
    "rate_limited": {"status": 429},
    "malformed_json": {"malformed": True},
}


@pytest.fixture
def fast_fulfillment(settings):
    settings.FULFILLMENT_MAX_ATTEMPTS = 2
    # The retry waits longer than the supplier takes to create an order (as 30 s does in production),
    # so a create that timed out on our side is found by the next attempt instead of made twice.
    settings.FULFILLMENT_BACKOFF_SECONDS = 1
    settings.TRADELINE_MAX_RETRIES = 0
    settings.TRADELINE_TIMEOUT_SECONDS = 0.3
    settings.ADMIN_EMAILS = []


@pytest.fixture
def paid_orders(make_broker, make_order, supplier_sim, fast_fulfillment):
    broker = make_broker(share="15.5", markup_percent="12.25")
    cards = supplier_sim.card_ids()
    orders = []
    for n in range(ORDERS):
        order = make_order(broker=broker, prices=(100_000 + n,), customer_name="Ada Lovelace")
        order.items.update(card_id=cards[n])
        assert order_payment_record(order_id=order.pk, amount=order.total_charged, currency="usd", method="STRIPE",
                               payment_intent=f"pi_{order.pk.hex}") == PaidOutcome.PAID
        orders.append(order)
    return orders


@pytest.mark.parametrize("fault", sorted(FAULTS))
def test_supplier_fault_for_the_whole_run_then_recovered_places_each_order_once(
        fault, paid_orders, supplier_sim, settings, admin_user):
    real_url = settings.TRADELINE_API_URL
    if FAULTS[fault] is None:
        settings.TRADELINE_API_URL = f"http://127.0.0.1:{free_port()}/wp-json/wc/v3"
    else:
        supplier_sim.set_faults(**FAULTS[fault])

    run_worker()
    for _ in range(40):  # retries run when they are due
        if all(o.fulfillment_status in (FulfillmentStatus.FAILED, FulfillmentStatus.SUCCEEDED)
               for o in (type(o).objects.get(pk=o.pk) for o in paid_orders)):
            break
        time.sleep(0.1)
        run_worker()
    states = {type(o).objects.get(pk=o.pk).fulfillment_status for o in paid_orders}
    if fault == "slow_create":
        # Each create timed out on our side but was made by the supplier: the next attempt finds it.
        assert states == {FulfillmentStatus.SUCCEEDED}
    else:
        assert states == {FulfillmentStatus.FAILED}
        for order in paid_orders:
            order.refresh_from_db()
            # The payment and the commission are untouched by the failure; nothing was placed.
            assert (order.status, order.payment_status, supplier_of(order).attempts) == (
                OrderStatus.PROCESSING, PaymentStatus.SUCCEEDED, 2)
            assert CommissionRecord.objects.filter(order=order).count() == 1
        assert supplier_sim.orders() == []

    # The supplier recovers; an admin retries what was given up.
    settings.TRADELINE_API_URL = real_url
    supplier_sim.clear_faults()
    time.sleep(0.9 if fault == "slow_create" else 0)  # creates still sleeping at the supplier finish
    for order in paid_orders:
        order.refresh_from_db()
        if order.fulfillment_status == FulfillmentStatus.FAILED:
            fulfillment_retry(order_id=order.pk, admin=admin_user)
    run_worker()
    assert_fulfilled_once(supplier_sim, paid_orders)
    assert_books_balance()
