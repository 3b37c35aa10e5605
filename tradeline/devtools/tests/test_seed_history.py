import io
from datetime import datetime, timedelta, timezone as dt_timezone

import pytest
from django.core.management import call_command
from django.core import mail
from django.db.models import Sum
from django.utils import timezone

from tradeline.analytics.models import BrokerDailyStats
from tradeline.analytics.selectors import broker_funnel
from tradeline.audit.models import ActivityLog
from tradeline.brokers.models import BrokerStatus
from tradeline.devtools.seed import history as demo
from tradeline.orders.models import FulfillmentStatus, Order
from tradeline.payouts.models import CommissionAdjustment, CommissionStatus, Payout, PayoutStatus
from tradeline.payouts.selectors import payout_report
from tradeline.payouts.services import payout_run_month


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
    first, last = demo.past_months(2, timezone.now())
    assert f"left for you to pay out: {last[0]:04d}-{last[1]:02d}" in out.getvalue()
    orders = Order.objects.filter(broker=broker)
    assert orders.count() >= 12
    # The older month is paid out and marked paid; the last full month is left for the admin to run.
    payouts = list(Payout.objects.filter(broker=broker).order_by("period_start"))
    assert [(p.status, p.period_start.month) for p in payouts] == [(PayoutStatus.COMPLETED, first[1])]
    # ... and running it, as the README says, takes its commissions minus the older month's clawbacks.
    run = payout_run_month(year=last[0], month=last[1])
    created = Payout.objects.get(broker=broker, period_start__month=last[1])
    assert [r.outcome for r in run] == ["created"]
    assert created.total_adjustments < 0
    assert CommissionAdjustment.objects.filter(payout=created).count() == created.adjustment_count
    for payout in (*payouts, created):
        report = payout_report(payout=payout)
        lines = sum(o["commission"] for o in report["orders"]) + sum(a["amount"] for a in report["adjustments"])
        assert lines == payout.total_amount
    assert broker.commissions.filter(status=CommissionStatus.HELD).count() == 1  # an open dispute
    assert broker.commissions.filter(status=CommissionStatus.VOID).count() == 2  # one full refund a month
    assert orders.filter(paid_at__gte=created.period_end).count() == 0
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


@pytest.mark.django_db
def test_demo_history_carries_the_dates_and_numbers_it_would_have_had(supplier_sim, make_broker):
    supplier_sim.sync()
    broker = make_broker(email="broker@demo.local", status=BrokerStatus.ACTIVE)
    call_command("seed_demo_history", "--months", "2", stdout=io.StringIO())

    for order in Order.objects.filter(broker=broker):
        assert order.order_number.startswith(f"TLM-{order.created_at:%y%m}-")
        assert order.created_at < order.paid_at < order.completed_at
        # Placed at the supplier before anything was refunded: never left "queued".
        assert order.fulfillment_status == FulfillmentStatus.SUCCEEDED and order.supplier.supplier_order_id
        entries = ActivityLog.objects.filter(entity_id=str(order.pk))
        assert entries.filter(created_at__date__gte=timezone.now().date()).count() == 0
        paid = entries.get(action="order.paid")
        assert paid.created_at == order.paid_at
        commission = order.commission
        assert commission.created_at == order.paid_at
    for payout in Payout.objects.filter(broker=broker):
        assert payout.created_at > payout.period_end
        assert payout.created_at < payout.period_end + timedelta(days=3)
    assert not mail.outbox  # no mail about months-old orders
