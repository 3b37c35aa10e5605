from datetime import UTC, datetime, timedelta

import pytest

from tradeline.analytics import selectors
from tradeline.brokers.models import AdminRole
from tradeline.orders.models import FulfillmentStatus, Order, OrderStatus
from tradeline.testing.factories import make_admin

NOW = datetime(2026, 11, 27, 15, 0, tzinfo=UTC)


def _paid(order, when, **fields):
    Order.objects.filter(pk=order.pk).update(paid_at=when, amount_paid=order.total_charged,
                                             status=fields.pop("status", OrderStatus.COMPLETED), **fields)
    order.refresh_from_db()
    return order


@pytest.mark.django_db
def test_platform_overview_sums_paid_orders_per_utc_period(make_broker, make_order):
    broker = make_broker(share="10", markup_percent="20")
    # P = $1,000: customer $1,200, platform net $400, broker $100 + $200.
    today = _paid(make_order(broker=broker, prices=(100_000,)), NOW - timedelta(hours=2))
    _paid(make_order(broker=broker, prices=(100_000,)), datetime(2026, 11, 3, tzinfo=UTC),
          amount_refunded=20_000)
    _paid(make_order(prices=(50_000,)), datetime(2026, 10, 30, 12, tzinfo=UTC))  # direct: last 30 days only
    _paid(make_order(prices=(50_000,)), datetime(2026, 10, 27, 23, 59, tzinfo=UTC))  # 31 days ago: nowhere
    make_order(broker=broker)  # never paid
    _paid(make_order(broker=broker, prices=(70_000,)), NOW - timedelta(hours=1), status=OrderStatus.ON_HOLD)  # review

    overview = selectors.platform_overview(now=NOW)

    assert {k: overview["today"][k] for k in ("orders", "sales", "platform_net_revenue", "broker_commissions",
                                              "refunded")} == {
        "orders": 1, "sales": 120_000, "platform_net_revenue": 40_000, "broker_commissions": 30_000, "refunded": 0}
    assert {k: overview["month"][k] for k in ("orders", "sales", "platform_net_revenue", "broker_commissions",
                                              "refunded")} == {
        "orders": 2, "sales": 240_000, "platform_net_revenue": 80_000, "broker_commissions": 60_000,
        "refunded": 20_000}
    assert {k: overview["last_30_days"][k] for k in ("orders", "sales", "platform_net_revenue",
                                                     "broker_commissions")} == {
        "orders": 3, "sales": 290_000, "platform_net_revenue": 105_000, "broker_commissions": 60_000}
    assert overview["last_30_days"]["start"] == datetime(2026, 10, 29, tzinfo=UTC)
    assert today.total_charged == 120_000


@pytest.mark.django_db
def test_daily_sales_has_one_row_per_day_with_zero_days(make_order):
    _paid(make_order(prices=(10_000,)), NOW - timedelta(days=1))
    _paid(make_order(prices=(5_000,)), NOW - timedelta(days=1, hours=1))
    _paid(make_order(prices=(7_000,)), NOW)

    series = selectors.daily_sales(days=3, now=NOW)

    assert [(row["day"].isoformat(), row["orders"], row["sales"]) for row in series] == [
        ("2026-11-25", 0, 0), ("2026-11-26", 2, 15_000), ("2026-11-27", 1, 7_000)]


@pytest.mark.django_db
def test_orders_needing_attention_are_held_or_failed_fulfillment(make_order):
    held = make_order(status=OrderStatus.ON_HOLD)
    failed = make_order(status=OrderStatus.PROCESSING, fulfillment_status=FulfillmentStatus.FAILED)
    make_order(status=OrderStatus.REFUNDED, fulfillment_status=FulfillmentStatus.FAILED)  # settled
    make_order(status=OrderStatus.COMPLETED)

    assert {o.pk for o in selectors.orders_needing_attention()} == {held.pk, failed.pk}
    assert selectors.orders_needing_attention_count() == 2


@pytest.mark.django_db
def test_orders_by_status_counts_created_orders(make_order):
    make_order()
    make_order()
    make_order(status=OrderStatus.CANCELLED)
    rows = {row["status"]: row for row in selectors.orders_by_status()}
    assert (rows["PENDING"]["today"], rows["PENDING"]["last_30_days"]) == (2, 2)
    assert rows["CANCELLED"]["month"] == 1
    assert rows["COMPLETED"]["today"] == 0


@pytest.mark.django_db
def test_admin_home_shows_the_overview_in_dollars(client, make_broker, make_order):
    broker = make_broker(share="10", markup_percent="20")
    _paid(make_order(broker=broker, prices=(100_000,)), datetime.now(UTC))
    held = make_order(status=OrderStatus.ON_HOLD, order_number="TLM-HELD-000001")
    client.force_login(make_admin(role=AdminRole.SUPPORT))

    response = client.get("/admin/")

    assert response.status_code == 200
    html = response.content.decode()
    assert "$1,200.00" in html  # sales today
    assert "$400.00" in html  # platform net revenue
    assert "$300.00" in html  # broker commissions
    assert f'/admin/orders/order/{held.pk}/change/' in html
    assert 'class="tl-chart"' in html


@pytest.mark.django_db
def test_admin_needs_a_staff_login(client):
    response = client.get("/admin/")
    assert response.status_code == 302
    assert response["Location"].startswith("/admin/login/")
