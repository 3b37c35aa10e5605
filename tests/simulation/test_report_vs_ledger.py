"""The revenue report agrees with the ledger to the cent on the seeded simulation's data: its totals
and its month and broker rows equal the sums of the per-order figures reconcile checks, and its
broker commissions equal the commission records' original amounts."""

from collections import defaultdict

import pytest
from django.db.models import Max, Min, Sum

from tests.simulation.world import Simulation
from tradeline.ledger.reconcile import reconcile_run
from tradeline.ledger.reconcile.ledger import _orders, _paid_transition
from tradeline.payouts.models import CommissionRecord
from tradeline.reports.selectors import Period, revenue_report

SEED = 20261202


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_report_equals_reconcile_per_order_figures(settings):
    settings.TRADELINE_API_URL = ""
    settings.PAYOUT_MINIMUM_CENTS = 5_000
    settings.COMMISSION_HOLD_DAYS = 0
    Simulation(seed=SEED, orders=240, brokers=12, months=3, shards=1).run()
    assert reconcile_run(stripe=False).total == 0

    paid = _orders(None).filter(_paid_transition())  # reconcile's own set of paid orders
    span = paid.aggregate(first=Min("paid_at"), last=Max("paid_at"))
    period = Period(span["first"].date(), span["last"].date())
    fields = ("amount_paid", "supplier_cost", "platform_net_revenue", "broker_revenue_share", "broker_markup",
              "amount_refunded")
    by_month, by_broker = defaultdict(lambda: defaultdict(int)), defaultdict(lambda: defaultdict(int))
    for row in paid.values("paid_at", "broker_id", *fields):  # per order, as reconcile reads them
        for bucket in (by_month[row["paid_at"].strftime("%Y-%m")], by_broker[str(row["broker_id"] or "direct")]):
            bucket["orders"] += 1
            for name in fields:
                bucket[name] += row[name]

    def figures(bucket) -> dict:
        return {"orders": bucket["orders"], "sales": bucket["amount_paid"], "refunds": bucket["amount_refunded"],
                "supplier_cost": bucket["supplier_cost"], "platform_net_revenue": bucket["platform_net_revenue"],
                "broker_commissions": bucket["broker_revenue_share"] + bucket["broker_markup"]}

    def shown(row) -> dict:
        return {name: row[name] for name in ("orders", "sales", "refunds", "supplier_cost", "platform_net_revenue",
                                             "broker_commissions")}

    months = revenue_report(period=period, group_by="month")
    assert {row["label"]: shown(row) for row in months["rows"] if row["orders"]} == {
        month: figures(bucket) for month, bucket in by_month.items()}
    brokers = revenue_report(period=period, group_by="broker")
    assert {row["key"]: shown(row) for row in brokers["rows"]} == {
        key: figures(bucket) for key, bucket in by_broker.items()}
    totals = months["totals"]
    assert totals == brokers["totals"]
    assert totals["orders"] == paid.count() > 100
    earned = CommissionRecord.objects.aggregate(total=Sum("original_revenue_share") + Sum("original_markup"))
    assert totals["broker_commissions"] == earned["total"]
    assert totals["sales"] == totals["supplier_cost"] + totals["platform_net_revenue"] + totals["broker_commissions"]
