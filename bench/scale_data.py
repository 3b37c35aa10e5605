"""A marketplace of N orders (default 1,000,000) over 24 months for 1,000 brokers, built inside PostgreSQL.

Everything is set-based (`INSERT … SELECT` over `generate_series` and joins): no row passes through
Python. This is the only module of the benchmark that knows the table layout; a column it does not
name gets a neutral value from its field type, so a new nullable or defaulted column needs no change.

Shape:
- brokers `bench-scale-NNNN@bench.local`; broker 0 is a big one with 1 order in 20 (50,000 of a
  million: its portal has 2,000 pages of 25), the others share the rest evenly;
- orders created evenly over the 730 days before the build, newest last; 92 % COMPLETED (paid,
  placed), 5 % CANCELLED (checkout expired), 3 % FAILED (payment declined); one item each;
- one commission per paid order; every month before the current one paid out (one PAID payout per
  broker and month, its commissions PAID), the current month's commissions PAYABLE;
- the daily broker figures (analytics) summed from those orders.
"""

import time

from django.db import connection, models

BROKERS = 1_000
DAYS = 730
BROKER_EMAIL = "bench-scale-{:04d}@bench.local"
BROKER_PATTERN = "bench-scale-%%"
ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"  # as order numbers (orders.services)


def _neutral(field: models.Field, when: str) -> str:
    if field.null:
        return "NULL"
    if field.has_default() and not callable(field.default) and isinstance(field.default, (str, int, bool)):
        default = field.default
        if isinstance(default, bool):
            return "true" if default else "false"
        if isinstance(default, int):
            return str(default)
        return "'" + default.replace("'", "''") + "'"
    if isinstance(field, (models.CharField, models.TextField)):
        return "''"
    if isinstance(field, models.BooleanField):
        return "false"
    if isinstance(field, (models.IntegerField, models.DecimalField, models.FloatField)):
        return "0"
    if isinstance(field, models.DateTimeField):
        return when
    if isinstance(field, models.JSONField):
        return "'{}'::jsonb"
    if isinstance(field, models.UUIDField):
        return "gen_random_uuid()"
    raise RuntimeError(f"the scale bench does not know how to fill {field.model.__name__}.{field.column}")


def insert_select(model, expressions: dict[str, str], source: str, *, when: str) -> str:
    """INSERT INTO model's table (every concrete column) SELECT expressions-or-neutral FROM source."""
    columns, values = [], []
    for field in model._meta.concrete_fields:
        columns.append(f'"{field.column}"')
        values.append(expressions.get(field.column) or _neutral(field, when))
    return f'INSERT INTO "{model._meta.db_table}" ({", ".join(columns)}) SELECT {", ".join(values)} FROM {source}'


def _order_number(g: str, at: str) -> str:
    """TLM-YYMM-XXXXXX with the 6 symbols a base-31 spelling of g (unique up to 887 million)."""
    symbols = " || ".join(f"substr('{ALPHABET}', (({g} / {31 ** k}) % 31)::int + 1, 1)" for k in range(5, -1, -1))
    return f"'TLM-' || to_char({at} AT TIME ZONE 'UTC', 'YYMM') || '-' || {symbols}"


def _brokers(cursor) -> None:
    from tradeline.brokers.models import Broker

    cursor.execute(insert_select(Broker, {
        "id": "gen_random_uuid()",
        "created_at": "now() - interval '800 days'", "updated_at": "now()",
        "name": "'Scale broker ' || lpad(i::text, 4, '0')",
        "business_name": "'Scale Credit ' || lpad(i::text, 4, '0') || ' LLC'",
        "email": f"'bench-scale-' || lpad(i::text, 4, '0') || '@bench.local'",
        "status": "'ACTIVE'", "revenue_share_percent": "10", "markup_type": "'PERCENTAGE'",
        "markup_percent": "20", "allowed_origins": "'[]'::jsonb", "approved_at": "now() - interval '800 days'",
    }, f"generate_series(0, {BROKERS - 1}) AS i WHERE NOT EXISTS "
       f"(SELECT 1 FROM brokers_broker b WHERE b.email = 'bench-scale-' || lpad(i::text, 4, '0') || '@bench.local')",
        when="now()"))
    cursor.execute("DROP TABLE IF EXISTS scale_brokers")
    cursor.execute(f"CREATE TEMP TABLE scale_brokers AS SELECT (row_number() OVER (ORDER BY email)) - 1 AS idx, id "
                   f"FROM brokers_broker WHERE email LIKE '{BROKER_PATTERN}'")
    cursor.execute("CREATE UNIQUE INDEX ON scale_brokers (idx)")


def _reset(cursor) -> None:
    # The bench database is scratch: orders and everything hanging off them go.
    cursor.execute("TRUNCATE payouts_commissionadjustment, payouts_commissionrecord, payouts_payout, "
                   "analytics_brokerdailystats, orders_orderitem, orders_order CASCADE")


def _source(cursor, n: int) -> None:
    """scale_src: one row per order: number, broker, creation time, base price (cents), status."""
    cursor.execute("DROP TABLE IF EXISTS scale_src")
    cursor.execute(
        f"""
        CREATE TEMP TABLE scale_src AS
        SELECT g, b.id AS broker_id,
               date_trunc('hour', now()) - interval '{DAYS} days'
                 + (g::float8 / %s) * interval '{DAYS} days' AS at,
               (20000 + (g %% 97) * 1000)::bigint AS base,
               CASE WHEN (g * 7919) %% 100 < 92 THEN 'COMPLETED'
                    WHEN (g * 7919) %% 100 < 97 THEN 'CANCELLED' ELSE 'FAILED' END AS status
        FROM generate_series(1::bigint, %s) AS g
        JOIN scale_brokers b ON b.idx = CASE WHEN g %% 20 = 0 THEN 0 ELSE 1 + g %% {BROKERS - 1} END
        """,
        [n, n],
    )


def _orders(cursor) -> None:
    from tradeline.orders.models import Order, OrderItem

    paid = "s.status = 'COMPLETED'"
    cursor.execute(insert_select(Order, {
        "id": "gen_random_uuid()", "created_at": "s.at", "updated_at": "s.at + interval '10 minutes'",
        "order_number": _order_number("s.g", "s.at"), "broker_id": "s.broker_id",
        "customer_email": "'customer' || s.g || '@example.com'", "customer_name": "'Customer ' || s.g",
        "status": "s.status",
        "payment_status": f"CASE WHEN {paid} THEN 'SUCCEEDED' WHEN s.status = 'FAILED' THEN 'FAILED' "
                          f"ELSE 'CANCELLED' END",
        "fulfillment_status": f"CASE WHEN {paid} THEN 'SUCCEEDED' ELSE 'NOT_STARTED' END",
        "dispute_status": "'NONE'",
        "subtotal_base": "s.base", "supplier_cost": "s.base - s.base / 2", "platform_gross": "s.base / 2",
        "platform_net_revenue": "s.base / 2 - s.base / 10", "broker_revenue_share": "s.base / 10",
        "broker_markup": "s.base / 5", "total_charged": "s.base + s.base / 5", "currency": "'usd'",
        "platform_commission_percent": "50", "revenue_share_percent": "10",
        "amount_paid": f"CASE WHEN {paid} THEN s.base + s.base / 5 ELSE 0 END", "amount_refunded": "0",
        "paid_at": f"CASE WHEN {paid} THEN s.at + interval '2 minutes' END",
        "completed_at": f"CASE WHEN {paid} THEN s.at + interval '10 minutes' END",
        "cancelled_at": "CASE WHEN s.status = 'CANCELLED' THEN s.at + interval '1 hour' END",
        "cancellation_reason": "CASE WHEN s.status = 'CANCELLED' THEN 'Checkout session expired.' ELSE '' END",
    }, "scale_src s ORDER BY s.g", when="s.at"))
    cursor.execute(insert_select(OrderItem, {
        "id": "gen_random_uuid()", "created_at": "o.created_at", "updated_at": "o.created_at",
        "order_id": "o.id", "card_id": "'CARD-' || lpad((abs(hashtext(o.order_number)) % 500)::text, 4, '0')",
        "bank_name": "(ARRAY['Chase', 'Citi', 'Capital One', 'Discover', 'Amex'])"
                     "[1 + abs(hashtext(o.order_number)) % 5]",
        "credit_limit": "1000000", "quantity": "1",
        "base_price": "o.subtotal_base", "platform_gross": "o.platform_gross",
        "revenue_share": "o.broker_revenue_share", "markup": "o.broker_markup", "customer_price": "o.total_charged",
        "total_base": "o.subtotal_base", "total_platform_gross": "o.platform_gross",
        "total_revenue_share": "o.broker_revenue_share", "total_markup": "o.broker_markup",
        "total_customer_price": "o.total_charged",
    }, "orders_order o", when="o.created_at"))
    _payments_and_supplier_orders(cursor)


def _payments_and_supplier_orders(cursor) -> None:
    """The records the order's payment and fulfillment summaries come from (docs/domain.md "Records"):
    one Stripe Payment per order (PAYING when paid) and a placed SupplierOrder per paid order."""
    from tradeline.fulfillment.models import SupplierOrder
    from tradeline.payments.models import Payment

    cursor.execute(insert_select(Payment, {
        "id": "gen_random_uuid()", "created_at": "o.created_at", "updated_at": "o.updated_at",
        "order_id": "o.id", "method": "'STRIPE'",
        "role": "CASE WHEN o.paid_at IS NOT NULL THEN 'PAYING' ELSE 'ATTEMPT' END",
        "status": "o.payment_status", "amount": "o.total_charged", "currency": "o.currency",
        "amount_refunded": "0", "dispute_status": "'NONE'",
        "stripe_session_id": "'cs_scale_' || replace(o.id::text, '-', '')",
        "stripe_payment_intent": "CASE WHEN o.paid_at IS NOT NULL THEN 'pi_scale_' || replace(o.id::text, '-', '') END",
        "reference": "''", "paid_at": "o.paid_at",
    }, "orders_order o", when="o.created_at"))
    cursor.execute(insert_select(SupplierOrder, {
        "id": "gen_random_uuid()", "created_at": "o.paid_at", "updated_at": "o.completed_at",
        "order_id": "o.id", "status": "'SUCCEEDED'", "attempts": "1",
        "supplier_order_id": "'scale-' || o.order_number", "supplier_status": "'completed'",
        "last_error": "''", "placed_at": "o.completed_at",
    }, "orders_order o WHERE o.paid_at IS NOT NULL", when="o.paid_at"))


def _payouts_and_commissions(cursor) -> None:
    from tradeline.payouts.models import CommissionRecord, Payout

    this_month = "date_trunc('month', now() AT TIME ZONE 'UTC') AT TIME ZONE 'UTC'"
    month = "date_trunc('month', o.paid_at AT TIME ZONE 'UTC') AT TIME ZONE 'UTC'"
    cursor.execute(insert_select(Payout, {
        "id": "gen_random_uuid()", "created_at": "m.period_end + interval '2 hours'",
        "updated_at": "m.period_end + interval '3 days'", "broker_id": "m.broker_id",
        "period_start": "m.period_start", "period_end": "m.period_end",
        "total_revenue_share": "m.share", "total_markup": "m.markup", "total_adjustments": "0",
        "total_amount": "m.share + m.markup", "commission_count": "m.n", "adjustment_count": "0",
        "status": "'COMPLETED'", "payment_method": "'ACH'",
        "transaction_id": "'ACH-' || to_char(m.period_start, 'YYYYMM') || '-' || left(m.broker_id::text, 8)",
        "processed_at": "m.period_end + interval '3 days'",
    }, f"""(SELECT o.broker_id, {month} AS period_start, {month} + interval '1 month' AS period_end,
                   sum(o.broker_revenue_share) AS share, sum(o.broker_markup) AS markup, count(*) AS n
            FROM orders_order o WHERE o.paid_at IS NOT NULL AND o.broker_id IS NOT NULL AND o.paid_at < {this_month}
            GROUP BY 1, 2) m""", when="m.period_end"))
    cursor.execute(insert_select(CommissionRecord, {
        "id": "gen_random_uuid()", "created_at": "o.paid_at", "updated_at": "o.paid_at",
        "broker_id": "o.broker_id", "order_id": "o.id",
        "original_revenue_share": "o.broker_revenue_share", "original_markup": "o.broker_markup",
        "revenue_share_amount": "o.broker_revenue_share", "markup_amount": "o.broker_markup",
        "total_commission": "o.broker_revenue_share + o.broker_markup",
        "status": "CASE WHEN p.id IS NULL THEN 'PAYABLE' ELSE 'PAID' END", "order_paid_at": "o.paid_at",
        "payout_id": "p.id", "paid_at": "p.processed_at",
    }, f"""orders_order o LEFT JOIN payouts_payout p
             ON p.broker_id = o.broker_id AND p.period_start = {month}
           WHERE o.paid_at IS NOT NULL AND o.broker_id IS NOT NULL""", when="o.paid_at"))


def _daily_figures(cursor) -> None:
    from tradeline.analytics.models import BrokerDailyStats

    cursor.execute(insert_select(BrokerDailyStats, {
        "id": "gen_random_uuid()", "created_at": "d.day::timestamptz", "updated_at": "d.day::timestamptz",
        "broker_id": "d.broker_id", "date": "d.day", "widget_loads": "d.n * 12", "checkout_starts": "d.n * 2",
        "orders_count": "d.paid", "total_sales": "d.sales", "revenue_share_earned": "d.share",
        "markup_earned": "d.markup", "refunds_count": "0", "refunded_amount": "0",
    }, """(SELECT o.broker_id, (o.created_at AT TIME ZONE 'UTC')::date AS day, count(*) AS n,
                  count(o.paid_at) AS paid, coalesce(sum(o.total_charged) FILTER (WHERE o.paid_at IS NOT NULL), 0) AS sales,
                  coalesce(sum(o.broker_revenue_share) FILTER (WHERE o.paid_at IS NOT NULL), 0) AS share,
                  coalesce(sum(o.broker_markup) FILTER (WHERE o.paid_at IS NOT NULL), 0) AS markup
           FROM orders_order o WHERE o.broker_id IS NOT NULL GROUP BY 1, 2) d""", when="d.day::timestamptz"))


def build(n: int, *, progress=print) -> float:
    """Replace the bench database's orders with N generated ones (and everything hanging off them)."""
    started = time.perf_counter()
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL synchronous_commit TO off") if connection.in_atomic_block else None
        _reset(cursor)
        _brokers(cursor)
        _source(cursor, n)
        steps = (("orders, items, payments and supplier orders", _orders), ("payouts and commissions", _payouts_and_commissions),
                 ("daily figures", _daily_figures))
        for label, step in steps:
            t0 = time.perf_counter()
            step(cursor)
            progress(f"   {label}: {time.perf_counter() - t0:.1f}s")
        cursor.execute("DROP TABLE IF EXISTS scale_src")
        t0 = time.perf_counter()
        cursor.execute("VACUUM ANALYZE orders_order") if not connection.in_atomic_block else None
        cursor.execute("ANALYZE orders_orderitem, payments_payment, fulfillment_supplierorder, "
                       "payouts_commissionrecord, payouts_payout, "
                       "analytics_brokerdailystats, brokers_broker")
        progress(f"   vacuum/analyze: {time.perf_counter() - t0:.1f}s")
    return time.perf_counter() - started


def scale_brokers() -> list:
    """The generated brokers, big one first."""
    from tradeline.brokers.models import Broker

    return list(Broker.objects.filter(email__startswith="bench-scale-").order_by("email"))
