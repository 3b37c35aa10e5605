"""Revenue report over a year of orders for 1,000 brokers (PostgreSQL).

The orders (BENCH_REPORT_ORDERS, default 1,000,000, paid across 2025-12-01..2026-11-30) and the
brokers' daily figures that the paid path would have written are generated inside PostgreSQL. Each
grouping (day, week, month, broker) of the full year is then built the way the dashboard page and
`GET /api/reports/revenue` build it (report + growth + top brokers), timed, and its totals checked
against the orders to the cent.
"""

import os
import time
from datetime import date

from django.db import connection

from bench.common import Context, Figure
from bench.sections.payouts import _brokers, _order_insert_sql, _reset

TITLE = "revenue report (a year, 1,000 brokers, PostgreSQL)"
ORDERS = int(os.environ.get("BENCH_REPORT_ORDERS", "1000000"))
TARGET_SECONDS = 1.0
START, END = date(2025, 12, 1), date(2026, 11, 30)


def _present(n: int) -> bool:
    """The data of an earlier run of this section (same size) is still there: reuse it."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM orders_order WHERE order_number LIKE 'BENCH-%%' "
                       "AND paid_at >= '2025-12-01' AND paid_at < '2026-12-01'")
        orders = cursor.fetchone()[0]
        cursor.execute("SELECT count(*) FROM orders_order")
        everything = cursor.fetchone()[0]
        cursor.execute("SELECT count(*) FROM analytics_brokerdailystats")
        stats = cursor.fetchone()[0]
    return orders == everything == n and stats > 0


def _generate(n: int) -> float:
    started = time.perf_counter()
    if _present(n):
        return 0.0
    with connection.cursor() as cursor:
        _reset(cursor)
        cursor.execute("TRUNCATE analytics_brokerdailystats")
        cursor.execute("DROP TABLE IF EXISTS bench_brokers, bench_src")
        cursor.execute(
            "CREATE TEMP TABLE bench_brokers AS SELECT (row_number() OVER (ORDER BY email)) - 1 AS idx, id "
            "FROM brokers_broker WHERE email LIKE 'bench-payouts-%%'")
        cursor.execute(
            """
            CREATE TEMP TABLE bench_src AS
            SELECT g, CASE WHEN g %% 20 = 0 THEN NULL ELSE b.id END AS broker_id,
                   (20000 + (g %% 97) * 1000)::bigint AS base,
                   timestamptz '2025-12-01 00:00:00+00' + ((g::bigint * 7919) %% 31536000) * interval '1 second'
                       AS paid_at
            FROM generate_series(1, %s) AS g JOIN bench_brokers b ON b.idx = g %% 1000
            """, [n])
        cursor.execute(_order_insert_sql())
        # Direct sales carry no broker earnings (DOMAIN.md); some refunds and lost disputes.
        cursor.execute("UPDATE orders_order SET broker_revenue_share = 0, broker_markup = 0, "
                       "platform_net_revenue = platform_gross, total_charged = subtotal_base, "
                       "amount_paid = subtotal_base WHERE broker_id IS NULL")
        cursor.execute("UPDATE orders_order SET amount_refunded = total_charged / 4, "
                       "payment_status = 'PARTIALLY_REFUNDED' WHERE order_number LIKE 'BENCH-%%' "
                       "AND right(order_number, 2) = '07'")
        cursor.execute("UPDATE orders_order SET dispute_status = 'LOST' WHERE order_number LIKE 'BENCH-%%' "
                       "AND right(order_number, 3) = '513'")
        cursor.execute(
            """
            INSERT INTO analytics_brokerdailystats (id, created_at, updated_at, broker_id, date, widget_loads,
                checkout_starts, orders_count, total_sales, revenue_share_earned, markup_earned, refunds_count,
                refunded_amount)
            SELECT gen_random_uuid(), now(), now(), broker_id, day, 0, 0, n, sales, share, markup, 0, 0
            FROM (SELECT broker_id, (paid_at AT TIME ZONE 'UTC')::date AS day, count(*) AS n,
                         sum(total_charged) AS sales, sum(broker_revenue_share) AS share, sum(broker_markup) AS markup
                  FROM orders_order WHERE broker_id IS NOT NULL GROUP BY 1, 2) AS daily
            """)
        cursor.execute("ANALYZE orders_order, analytics_brokerdailystats, brokers_broker")
    return time.perf_counter() - started


def _expected() -> tuple[int, int, int]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*), sum(total_charged), sum(platform_net_revenue) FROM orders_order "
                       "WHERE paid_at >= '2025-12-01' AND paid_at < '2026-12-01'")
        return tuple(int(x) for x in cursor.fetchone())


def run(ctx: Context) -> list[Figure]:
    from tradeline.reports.selectors import Period, revenue_report

    if connection.vendor != "postgresql":
        raise RuntimeError("the reports bench needs PostgreSQL")
    _brokers()
    generated = _generate(ORDERS)
    print(f"  generated {ORDERS:,} orders and their daily figures in {generated:.1f}s", flush=True)
    orders, sales, net = _expected()
    figures = []
    period = Period(START, END)
    for group_by in ("day", "week", "month", "broker"):
        revenue_report(period=period, group_by=group_by)  # warm the cache of the buffer pool once
        started = time.perf_counter()
        report = revenue_report(period=period, group_by=group_by)
        seconds = time.perf_counter() - started
        totals = report["totals"]
        if (totals["orders"], totals["sales"], totals["platform_net_revenue"]) != (orders, sales, net):
            raise RuntimeError(f"{group_by}: report totals {totals} differ from the orders ({orders}, {sales}, {net})")
        figures.append(Figure(f"report by {group_by}, {orders:,} orders", seconds, "s",
                              target=f"< {TARGET_SECONDS:g} s", ok=seconds < TARGET_SECONDS))
    seconds = _page_seconds()
    figures.append(Figure("Reports page (HTML, by day, a year)", seconds, "s", target=f"< {TARGET_SECONDS:g} s",
                          ok=seconds < TARGET_SECONDS))
    return figures


def _page_seconds() -> float:
    """The dashboard page itself, through Django's test client (the whole view and template)."""
    from django.contrib.auth import get_user_model
    from django.test import Client

    from tradeline.brokers.models import AdminProfile, AdminRole

    user, _ = get_user_model().objects.get_or_create(username="bench-reports@bench.local",
                                                     defaults={"email": "bench-reports@bench.local",
                                                               "is_staff": True})
    AdminProfile.objects.get_or_create(user=user, defaults={"role": AdminRole.STAFF})
    client = Client()
    client.force_login(user)
    url = f"/admin/reports/?start={START}&end={END}&group_by=day"
    assert client.get(url).status_code == 200
    started = time.perf_counter()
    response = client.get(url)
    seconds = time.perf_counter() - started
    if response.status_code != 200:
        raise RuntimeError(f"the Reports page answered {response.status_code}")
    return seconds
