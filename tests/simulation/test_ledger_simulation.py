"""The whole ledger under a seeded random month-by-month run: reconcile finds nothing.

N orders (SIMULATION_ORDERS; default 10,000 on PostgreSQL, 600 on SQLite) across 50 brokers with
random shares (10..25 %, with fractions) and markups (percent with fractions, or fixed), direct
sales, declines, expiries, failures, paid-after-expiry and wrong-amount payments, customers paying both
the session and the payment link (the excess payment refunded), partial and full
refunds (some reported before the payment), disputes won and lost, and four monthly payout runs
(paid, cancelled, left pending). Every step goes through the real services or `webhook_process`.
"""

import os
import sys
import time

import pytest
from django.db import connection

from tests.simulation.world import Simulation
from tradeline.ledger.reconcile import reconcile_run
from tradeline.orders.models import Order
from tradeline.payments.models import Payment
from tradeline.payouts.models import CommissionAdjustment, CommissionRecord, Payout

SEED = 20261127


def _orders_wanted() -> int:
    default = 10_000 if connection.vendor == "postgresql" else 600
    return int(os.environ.get("SIMULATION_ORDERS") or default)


def _shards() -> int:
    """Customer streams side by side: PostgreSQL serves them concurrently; SQLite has one writer."""
    default = 3 if connection.vendor == "postgresql" else 1
    return int(os.environ.get("SIMULATION_THREADS") or default)


@pytest.fixture
def quiet_catalog(settings):
    settings.TRADELINE_API_URL = ""  # the seeded snapshot is the catalog: no supplier refresh
    settings.PAYOUT_MINIMUM_CENTS = 5_000
    settings.COMMISSION_HOLD_DAYS = 0


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)  # the streams commit on their own connections
def test_random_marketplace_reconciles_to_zero(quiet_catalog):
    n, shards = _orders_wanted(), _shards()
    tally = Simulation(seed=SEED, orders=n, shards=shards).run()

    started = time.perf_counter()
    report = reconcile_run(stripe=False)
    reconcile_seconds = time.perf_counter() - started

    print(f"\nsimulation ({connection.vendor}, {shards} streams): {n:,} orders in {tally.seconds['orders']:.1f}s "
          f"({n / tally.seconds['orders']:,.0f} orders/s), reconcile {reconcile_seconds:.2f}s", file=sys.stderr)
    print(f"  outcomes: {dict(sorted(tally.outcomes.items()))}", file=sys.stderr)
    print(f"  payouts: {dict(sorted(tally.payouts.items()))}", file=sys.stderr)
    assert [d.line() for d in report.discrepancies] == []
    assert report.total == 0

    # The run really covered the ground it claims to.
    assert Order.objects.count() == tally.orders == n
    assert tally.outcomes["paid"] >= n * 0.7
    for outcome in ("declined_then_expired", "expired", "async_failed", "paid_after_expiry", "amount_mismatch",
                    "expired_after_paid", "refund_before_paid", "partial_refund", "full_refund", "dispute_opened",
                    "dispute_lost", "dispute_won", "refund_after_won_dispute",
                    "refund_refused_after_lost_dispute", "excess_refunded"):
        assert tally.outcomes[outcome] > 0, outcome
    assert Order.objects.filter(broker__isnull=True, payment_status="SUCCEEDED").exists()  # direct sales paid
    assert CommissionRecord.objects.count() == Order.objects.filter(
        broker__isnull=False, payment_status__in=("SUCCEEDED", "PARTIALLY_REFUNDED", "REFUNDED")
    ).exclude(fulfillment_status="NOT_STARTED").count()
    excess = Payment.objects.filter(role="EXCESS")
    assert excess.count() == excess.filter(status="REFUNDED").count() == tally.outcomes["excess_refunded"]
    assert Payout.objects.filter(status="COMPLETED").exists()
    assert Payout.objects.filter(status="CANCELLED").exists()
    assert Payout.objects.filter(status="PENDING").exists()
    assert CommissionAdjustment.objects.filter(amount__lt=0).exists()  # clawbacks after payouts
    assert report.checked["orders"] == n
