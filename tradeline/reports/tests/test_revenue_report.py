"""Revenue report: exact figures per day/week/month/broker, growth, JSON and CSV, bad input."""

from datetime import UTC, date, datetime

import pytest
from django.utils import timezone

from tradeline.brokers.models import AdminRole
from tradeline.orders.models import DisputeStatus, Order
from tradeline.payments.models import Payment
from tradeline.payments.services.paid import PaidOutcome, order_payment_record
from tradeline.payments.services.refunds import refund_total_apply
from tradeline.reports.selectors import Period, growth_percent, report_period, revenue_report

pytestmark = pytest.mark.django_db


def paid(make_order, *, broker=None, prices=(100_000,), on: datetime | None = None) -> Order:
    order = make_order(broker=broker, prices=prices)
    assert order_payment_record(order_id=order.pk, amount=order.total_charged, currency="usd", method="STRIPE",
                           payment_intent=f"pi_{order.pk.hex}") == PaidOutcome.PAID
    if on is not None:  # as if paid then: the order's paid_at is a summary of its payment's
        Payment.objects.filter(order=order).update(paid_at=on)
        Order.objects.filter(pk=order.pk).update(paid_at=on)
    order.refresh_from_db()
    return order


def at(day: str, hour: int = 12) -> datetime:
    return datetime.fromisoformat(day).replace(hour=hour, tzinfo=UTC)


@pytest.fixture
def november(make_broker, make_order):
    """Two brokers and a direct sale across November 2026, a partial refund and a lost dispute."""
    alpha = make_broker(name="Alpha", share="10", markup_percent="20")
    beta = make_broker(name="Beta", share="12.5", markup_percent="7.5")
    a1 = paid(make_order, broker=alpha, on=at("2026-11-02", 0))  # 1,200.00: net 400, share 100, markup 200
    a2 = paid(make_order, broker=alpha, on=at("2026-11-02", 23))
    b1 = paid(make_order, broker=beta, prices=(33_333,), on=at("2026-11-10"))  # rounding example
    d1 = paid(make_order, prices=(50_000,), on=at("2026-11-30", 23))  # direct: 500.00, net 250
    make_order(broker=alpha)  # never paid: not in the report
    refund_total_apply(order_id=a2.pk, amount_refunded=30_000)
    Order.objects.filter(pk=b1.pk).update(dispute_status=DisputeStatus.LOST)
    paid(make_order, broker=alpha, on=at("2026-10-31", 23))  # previous period: only in growth
    return {"alpha": alpha, "beta": beta, "orders": (a1, a2, b1, d1)}


NOVEMBER = Period(date(2026, 11, 1), date(2026, 11, 30))


def test_totals_are_the_orders_frozen_figures(november):
    totals = revenue_report(period=NOVEMBER, group_by="day")["totals"]
    assert totals == {
        "orders": 4,
        "sales": 120_000 * 2 + 35_833 + 50_000,
        "refunds": 30_000,
        "disputes_lost": 35_833,
        "disputes_lost_count": 1,
        "supplier_cost": 50_000 * 2 + 16_666 + 25_000,
        "platform_net_revenue": 40_000 * 2 + 12_500 + 25_000,
        "broker_revenue_share": 10_000 * 2 + 4_167,
        "broker_markup": 20_000 * 2 + 2_500,
        "broker_commissions": 30_000 * 2 + 6_667,
        "average_order_value": 81_458,  # 325,833 / 4 = 81,458.25 -> half up
    }
    assert totals["sales"] == (totals["supplier_cost"] + totals["platform_net_revenue"]
                               + totals["broker_commissions"])


def test_by_day_every_day_is_there_and_rows_add_up(november):
    report = revenue_report(period=NOVEMBER, group_by="day")
    assert len(report["rows"]) == 30
    by_key = {row["key"]: row for row in report["rows"]}
    assert (by_key["2026-11-02"]["orders"], by_key["2026-11-02"]["sales"]) == (2, 240_000)
    assert by_key["2026-11-30"]["platform_net_revenue"] == 25_000
    assert by_key["2026-11-03"]["orders"] == 0
    for name in ("orders", "sales", "refunds", "platform_net_revenue", "broker_commissions", "supplier_cost"):
        assert sum(row[name] for row in report["rows"]) == report["totals"][name]


def test_by_week_and_month(november):
    weeks = revenue_report(period=NOVEMBER, group_by="week")["rows"]
    assert weeks[0]["key"] == "2026-10-26"  # the Monday of the week holding Nov 1
    assert [(w["key"], w["orders"]) for w in weeks if w["orders"]] == [
        ("2026-11-02", 2), ("2026-11-09", 1), ("2026-11-30", 1)]
    months = revenue_report(period=Period(date(2026, 10, 1), date(2026, 11, 30)), group_by="month")["rows"]
    assert [(m["label"], m["orders"], m["sales"]) for m in months] == [
        ("2026-10", 1, 120_000), ("2026-11", 4, 325_833)]


def test_by_broker_with_direct_sales(november):
    rows = revenue_report(period=NOVEMBER, group_by="broker")["rows"]
    assert [(r["label"], r["orders"], r["sales"], r["broker_commissions"]) for r in rows] == [
        ("Alpha", 2, 240_000, 60_000), ("Direct sales", 1, 50_000, 0), ("Beta", 1, 35_833, 6_667)]


def test_growth_against_the_previous_period(november):
    report = revenue_report(period=NOVEMBER, group_by="day")
    assert (report["previous"]["start"], report["previous"]["end"]) == (date(2026, 10, 2), date(2026, 10, 31))
    assert report["previous"]["sales"] == 120_000
    assert str(report["growth"]["sales"]) == "171.53"  # 325,833 / 120,000 - 1
    assert str(report["growth"]["orders"]) == "300.00"
    assert growth_percent(5, 0) is None


def test_top_brokers_from_daily_figures_match_the_orders(make_broker, make_order):
    alpha, beta = make_broker(name="Alpha"), make_broker(name="Beta")
    paid(make_order, broker=alpha)
    paid(make_order, broker=alpha)
    paid(make_order, broker=beta, prices=(50_000,))
    today = timezone.now().date()
    report = revenue_report(period=Period(today, today), group_by="broker")
    top = [(t["name"], t["orders"], t["sales"], t["broker_commissions"]) for t in report["top_brokers"]]
    assert top == [(r["label"], r["orders"], r["sales"], r["broker_commissions"]) for r in report["rows"]]
    assert top[0] == ("Alpha", 2, 240_000, 60_000)


# ------------------------------------------------------------------ API


def test_api_json_and_csv_are_the_same_numbers(client, admin_headers, november):
    headers = admin_headers(AdminRole.SUPPORT)  # read-only roles may read reports
    body = client.get("/api/reports/revenue?start=2026-11-01&end=2026-11-30&group_by=broker", **headers).json()
    assert body["totals"]["sales"] == 325_833 and body["totals"]["sales_usd"] == "3258.33"
    assert body["growth_percent"]["sales"] == "171.53"
    assert [r["label"] for r in body["rows"]] == ["Alpha", "Direct sales", "Beta"]
    response = client.get("/api/reports/revenue?start=2026-11-01&end=2026-11-30&group_by=broker&format=csv",
                          **headers)
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    lines = response.content.decode().splitlines()
    assert lines[0].startswith("group,orders,sales_usd,refunds_usd,disputes_lost_usd,disputes_lost_count,")
    assert lines[1].startswith("Alpha,2,2400.00,300.00,0.00,0,1000.00,800.00,")
    assert lines[-1].startswith("TOTAL,4,3258.33,300.00,358.33,1,")
    assert len(lines) == 5


@pytest.mark.parametrize("query,field", [
    ("start=2026-13-01", "start"), ("end=yesterday", "end"), ("start=2026-11-02&end=2026-11-01", "start"),
    ("group_by=year", "group_by"), ("format=xml", "format"), ("start=2020-01-01&end=2026-01-01", "end"),
])
def test_bad_queries_are_422(client, admin_headers, query, field):
    response = client.get(f"/api/reports/revenue?{query}", **admin_headers())
    assert response.status_code == 422
    body = response.json()
    assert body["code"] == "INVALID_REPORT_QUERY" and body["details"][0]["field"] == field


def test_needs_an_admin_token(client, keyed_broker):
    _, keys = keyed_broker()
    assert client.get("/api/reports/revenue").status_code == 401
    assert client.get("/api/reports/revenue", HTTP_X_API_KEY=keys["secret_key"]).status_code == 401


def test_default_period_is_the_last_30_days():
    period = report_period(start=None, end=None, today=date(2026, 12, 2))
    assert (period.start, period.end, period.days) == (date(2026, 11, 3), date(2026, 12, 2), 30)
    assert period.previous() == Period(date(2026, 10, 4), date(2026, 11, 2))
    assert report_period(start="2026-11-01", end="2026-11-01", today=date(2026, 12, 2)).days == 1


def test_csv_never_starts_a_cell_with_a_formula(client, admin_headers, make_broker, make_order):
    paid(make_order, broker=make_broker(name='=HYPERLINK("http://evil.example","x")'))
    body = client.get("/api/reports/revenue?group_by=broker&format=csv", **admin_headers()).content.decode()
    assert body.splitlines()[1].startswith("\"'=HYPERLINK(")
