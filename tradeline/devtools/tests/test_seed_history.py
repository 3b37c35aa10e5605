import io
from datetime import datetime, timezone as dt_timezone

import pytest
from django.core.management import call_command
from django.db.models import Sum

from tradeline.analytics.models import BrokerDailyStats
from tradeline.analytics.selectors import broker_funnel
from tradeline.brokers.models import BrokerStatus
from tradeline.orders.models import Order
from tradeline.devtools.seed import history as demo
from tradeline.payouts.models import CommissionAdjustment, CommissionStatus, Payout, PayoutStatus
from tradeline.payouts.selectors import payout_report


def test_past_months_are_the_full_months_before_now():
    now = datetime(2026, 2, 10, tzinfo=dt_timezone.utc)
    assert demo.past_months(3, now) == [(2025, 11), (2025, 12), (2026, 1)]


@pytest.mark.django_db
def test_without_demo_broker_nothing_is_created(make_broker):
    make_broker(email="someone@example.com")
    out = io.StringIO()
    call_command("seed_demo_history", "--months", "2", stdout=out)
    assert "not created" in out.getvalue()
    assert Order.objects.count() == 0


@pytest.mark.django_db
def test_demo_history_through_the_real_services(supplier_sim, make_broker):
    supplier_sim.sync()
    broker = make_broker(email="broker@demo.local", status=BrokerStatus.ACTIVE)
    out = io.StringIO()
    call_command("seed_demo_history", "--months", "2", stdout=out)
    assert "Demo history for" in out.getvalue()
    orders = Order.objects.filter(broker=broker)
    assert orders.count() >= 12
    payouts = list(Payout.objects.filter(broker=broker).order_by("period_start"))
    assert [p.status for p in payouts] == [PayoutStatus.COMPLETED, PayoutStatus.PENDING]
    # The first month's post-payout clawbacks are deducted from the second payout.
    assert payouts[1].total_adjustments < 0
    assert CommissionAdjustment.objects.filter(payout=payouts[1]).count() == payouts[1].adjustment_count
    for payout in payouts:
        report = payout_report(payout=payout)
        lines = sum(o["commission"] for o in report["orders"]) + sum(a["amount"] for a in report["adjustments"])
        assert lines == payout.total_amount
    assert broker.commissions.filter(status=CommissionStatus.HELD).count() == 1  # an open dispute
    assert broker.commissions.filter(status=CommissionStatus.VOID).count() == 2  # one full refund a month
    assert orders.filter(paid_at__gte=payouts[1].period_end).count() == 0
    # Each seeded sale comes with the shop visits before it: every day's funnel narrows step by step.
    days = BrokerDailyStats.objects.filter(broker=broker, orders_count__gt=0)
    assert days.count() > 0
    for day in days:
        assert day.widget_loads >= day.unique_visitors >= day.cart_adds >= day.checkout_starts >= day.orders_count
    funnel = broker_funnel(broker=broker, days=120)
    assert funnel["orders"] == orders.count()
    assert 0 < funnel["conversion_percent"] < 100
    total = orders.aggregate(t=Sum("total_charged"))["t"]
    again = io.StringIO()
    call_command("seed_demo_history", "--months", "2", stdout=again)
    assert "already present" in again.getvalue()
    assert orders.aggregate(t=Sum("total_charged"))["t"] == total
