"""Month-end payout run over 1,000,000 (and 2,000,000) commission rows for 1,000 brokers.

The rows are generated inside PostgreSQL (INSERT ... SELECT generate_series), never through the
ORM. The run itself is `tradeline create_payouts --month 2026-10` in a child process, so its wall
time and peak RSS are those of the real command, Django start-up included. Afterwards the payout
totals are checked against the commission rows in SQL, to the cent (one grouped pass per table).

Printed beside the run: its time × the same run's pgbench TPS, a machine-independent figure
(issue 13: at most 45,000 for 1,000,000 commissions).

Data: 97 % of the commissions fall in October 2026 (the month paid out), 3 % are September
leftovers (taken too); 1 % of the commissions carry an open clawback adjustment.
"""

import os
import subprocess
import sys
import time

from django.db import connection

from bench.common import Context, Figure
from bench.scale_data import insert_select

TITLE = "payouts (month-end run, PostgreSQL)"
BROKERS = 1_000
# BENCH_PAYOUTS_SIZES="20000,40000" for a quick try of the section itself.
SIZES = tuple(int(x) for x in os.environ.get("BENCH_PAYOUTS_SIZES", "1000000,2000000").split(","))
TARGET_SECONDS = 30.0
TARGET_RSS_MB = 300.0
TARGET_SECONDS_X_TPS = 45_000.0  # run seconds x pgbench TPS: a ratio that survives a slower machine
BROKER_EMAIL = "bench-payouts-{}@bench.local"

# Order columns the generator sets explicitly; every other column gets a neutral value by type.
ORDER_EXPRESSIONS = {
    "id": "gen_random_uuid()",
    "created_at": "s.paid_at - interval '5 minutes'",
    "updated_at": "s.paid_at",
    "order_number": "'BENCH-' || lpad(s.g::text, 8, '0')",
    "broker_id": "s.broker_id",
    "customer_email": "'customer' || s.g || '@example.com'",
    "status": "'COMPLETED'",
    "payment_status": "'SUCCEEDED'",
    "fulfillment_status": "'SUCCEEDED'",
    "dispute_status": "'NONE'",
    "subtotal_base": "s.base",
    "supplier_cost": "s.base - s.base / 2",
    "platform_gross": "s.base / 2",
    "platform_net_revenue": "s.base / 2 - s.base / 10",
    "broker_revenue_share": "s.base / 10",
    "broker_markup": "s.base / 5",
    "total_charged": "s.base + s.base / 5",
    "currency": "'usd'",
    "platform_commission_percent": "50",
    "revenue_share_percent": "10",
    "amount_paid": "s.base + s.base / 5",
    "amount_refunded": "0",
    "paid_at": "s.paid_at",
    "completed_at": "s.paid_at",
}


def _order_insert_sql() -> str:
    from tradeline.orders.models import Order

    # The columns not named above get scale_data's neutral value of their type ("s.paid_at" for a time).
    return insert_select(Order, ORDER_EXPRESSIONS, "bench_src s", when="s.paid_at")


def _brokers() -> None:
    from tradeline.brokers.models import Broker, BrokerStatus

    have = set(Broker.objects.filter(email__startswith="bench-payouts-").values_list("email", flat=True))
    Broker.objects.bulk_create([
        Broker(name=f"Bench broker {i:04d}", email=BROKER_EMAIL.format(i), status=BrokerStatus.ACTIVE)
        for i in range(BROKERS) if BROKER_EMAIL.format(i) not in have
    ])


def _reset(cursor) -> None:
    # The bench database is scratch: orders and everything hanging off them go.
    cursor.execute("TRUNCATE payouts_commissionadjustment, payouts_commissionrecord, payouts_payout, "
                   "orders_orderitem, orders_order CASCADE")
    cursor.execute("DELETE FROM audit_activitylog WHERE action LIKE 'payout.%%'")


def _generate(n: int) -> float:
    started = time.perf_counter()
    with connection.cursor() as cursor:
        _reset(cursor)
        cursor.execute("DROP TABLE IF EXISTS bench_brokers, bench_src")
        cursor.execute(
            "CREATE TEMP TABLE bench_brokers AS SELECT (row_number() OVER (ORDER BY email)) - 1 AS idx, id "
            "FROM brokers_broker WHERE email LIKE 'bench-payouts-%%'"
        )
        cursor.execute(
            """
            CREATE TEMP TABLE bench_src AS
            SELECT g, b.id AS broker_id, (20000 + (g %% 97) * 1000)::bigint AS base,
                   CASE WHEN g %% 100 < 3
                        THEN timestamptz '2026-09-01 00:00:00+00' + (g %% 2592000) * interval '1 second'
                        ELSE timestamptz '2026-10-01 00:00:00+00' + (g %% 2678400) * interval '1 second'
                   END AS paid_at
            FROM generate_series(1, %s) AS g
            JOIN bench_brokers b ON b.idx = g %% %s
            """,
            [n, BROKERS],
        )
        cursor.execute(_order_insert_sql())
        cursor.execute(
            """
            INSERT INTO payouts_commissionrecord (id, created_at, updated_at, broker_id, order_id,
                original_revenue_share, original_markup, revenue_share_amount, markup_amount, total_commission,
                status, order_paid_at, payout_id, paid_at)
            SELECT gen_random_uuid(), o.paid_at, o.paid_at, o.broker_id, o.id, o.broker_revenue_share,
                   o.broker_markup, o.broker_revenue_share, o.broker_markup, o.broker_revenue_share + o.broker_markup,
                   'PAYABLE', o.paid_at, NULL, NULL
            FROM orders_order o WHERE o.order_number LIKE 'BENCH-%%'
            """
        )
        cursor.execute(
            """
            INSERT INTO payouts_commissionadjustment (id, created_at, updated_at, broker_id, order_id, commission_id,
                revenue_share_amount, markup_amount, amount, reason, status, payout_id, key, note, created_by_id)
            SELECT gen_random_uuid(), c.order_paid_at, c.order_paid_at, c.broker_id, c.order_id, c.id,
                   -c.revenue_share_amount / 4, -c.markup_amount / 4,
                   -c.revenue_share_amount / 4 - c.markup_amount / 4, 'REFUND', 'OPEN', NULL,
                   'bench:' || c.id, '', NULL
            FROM payouts_commissionrecord c TABLESAMPLE BERNOULLI (1) REPEATABLE (42)
            """
        )
        cursor.execute("ANALYZE orders_order, payouts_commissionrecord, payouts_commissionadjustment, brokers_broker")
    return time.perf_counter() - started


RSS_PROBE = (
    "import resource, sys\n"
    "from tradeline.__main__ import main\n"
    "sys.argv = ['tradeline', 'create_payouts', '--month', '2026-10', '--verbosity', '0']\n"
    "try:\n"
    "    main()\n"
    "finally:\n"
    "    print('PEAK_RSS_KB', resource.getrusage(resource.RUSAGE_SELF).ru_maxrss, file=sys.stderr)\n"
)


def _run_command() -> tuple[float, float]:
    """Wall time and peak RSS (MB) of `tradeline create_payouts --month 2026-10` in a child process."""
    env = dict(os.environ, LOG_LEVEL="WARNING")
    started = time.perf_counter()
    result = subprocess.run([sys.executable, "-c", RSS_PROBE], env=env, capture_output=True, text=True)
    seconds = time.perf_counter() - started
    if result.returncode != 0:
        raise RuntimeError(f"create_payouts failed: {result.stderr[-2000:]}")
    peak_kb = next(int(line.split()[1]) for line in result.stderr.splitlines() if line.startswith("PEAK_RSS_KB"))
    return seconds, peak_kb / 1024.0


def _check() -> tuple[int, int]:
    """Each payout must equal the commissions and adjustments it took, to the cent: one grouped pass
    over each table (joined to the payouts by id), not a sub-select per payout."""
    with connection.cursor() as cursor:
        cursor.execute(
            """
            WITH c AS (SELECT payout_id, sum(total_commission) AS total FROM payouts_commissionrecord
                       WHERE payout_id IS NOT NULL GROUP BY payout_id),
                 a AS (SELECT payout_id, sum(amount) AS total FROM payouts_commissionadjustment
                       WHERE payout_id IS NOT NULL GROUP BY payout_id)
            SELECT count(*),
                   count(*) FILTER (WHERE p.total_amount <> coalesce(c.total, 0) + coalesce(a.total, 0))
            FROM payouts_payout p LEFT JOIN c ON c.payout_id = p.id LEFT JOIN a ON a.payout_id = p.id
            WHERE p.period_start = '2026-10-01 00:00:00+00'
            """
        )
        count, wrong = cursor.fetchone()
        cursor.execute(
            "SELECT count(*) FROM payouts_commissionrecord WHERE status = 'PAYABLE' AND payout_id IS NULL"
        )
        left = cursor.fetchone()[0]
    if wrong:
        raise RuntimeError(f"{wrong} of {count} payouts differ from the rows they took")
    return count, left


def run(ctx: Context) -> list[Figure]:
    if connection.vendor != "postgresql":
        raise RuntimeError("the payouts bench needs PostgreSQL")
    _brokers()
    figures: list[Figure] = []
    for n in SIZES:
        label = f"{n:,} commissions"
        gen_seconds = _generate(n)
        print(f"   generated {label} for {BROKERS:,} brokers in {gen_seconds:.1f}s", flush=True)
        seconds, rss_mb = _run_command()
        payouts, carried = _check()
        print(f"   {payouts} payouts created, {carried:,} commissions carried over; totals verified", flush=True)
        first = n == 1_000_000
        figures.append(Figure(f"month-end run, {label}", seconds, "s",
                              target=f"< {TARGET_SECONDS:.0f} s" if first else "",
                              ok=seconds < TARGET_SECONDS if first else None))
        pgbench = float(ctx.shared.get("pgbench_tps") or 0.0)
        if pgbench:
            per_million = seconds * pgbench * 1_000_000 / n
            figures.append(Figure(f"month-end run, {label} x pgbench TPS (per 1,000,000)", per_million, "s*tps",
                                  target=f"<= {TARGET_SECONDS_X_TPS:,.0f}", ok=per_million <= TARGET_SECONDS_X_TPS))
        figures.append(Figure(f"month-end run peak RSS, {label}", rss_mb, "MB",
                              target=f"< {TARGET_RSS_MB:.0f} MB", ok=rss_mb < TARGET_RSS_MB))
    return figures
