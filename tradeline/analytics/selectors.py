"""Read-side figures for the admin dashboard and the broker portal. Every sum is computed in SQL."""

from datetime import UTC, datetime, time, timedelta
from decimal import ROUND_HALF_UP, Decimal

from django.db.models import Count, Q, QuerySet, Sum
from django.db.models.functions import Coalesce, TruncDate
from django.utils import timezone

from tradeline.analytics.models import BrokerDailyStats
from tradeline.orders.models import FulfillmentStatus, Order, OrderStatus
from tradeline.orders.selectors import earned_totals

ZERO = 0
# Orders whose money counts as sales: paid and accepted (an ON_HOLD payment is under review).
# The same set as the order list summaries (orders.selectors.PAID_STATUSES).
SOLD_STATUSES = (OrderStatus.PROCESSING, OrderStatus.COMPLETED, OrderStatus.REFUNDED)


def _sold():
    return Order.objects.filter(paid_at__isnull=False, status__in=SOLD_STATUSES)


def utc_periods(*, now: datetime | None = None) -> dict[str, tuple[datetime, datetime]]:
    """`today`, `month` (calendar month so far) and `last_30_days` as [start, end) in UTC."""
    now = (now or timezone.now()).astimezone(UTC)
    today = datetime.combine(now.date(), time.min, tzinfo=UTC)
    end = today + timedelta(days=1)
    return {
        "today": (today, end),
        "month": (today.replace(day=1), end),
        "last_30_days": (today - timedelta(days=29), end),
    }


def _sum(field: str, window: Q) -> Coalesce:
    return Coalesce(Sum(field, filter=window), ZERO)


def platform_overview(*, now: datetime | None = None, broker=None) -> dict:
    """Sales, platform net revenue, broker commissions and refunds of orders *paid* in each period
    (statuses PROCESSING, COMPLETED, REFUNDED; ON_HOLD payments are under review and not counted).

    Returns {period: {"orders", "sales", "platform_net_revenue", "broker_commissions", "refunded"}}
    (cents). Figures are those frozen on the orders at sale time; refunds are shown beside them.
    One query for all periods. With `broker`, only that broker's orders.
    """
    periods = utc_periods(now=now)
    # Only the window's orders are read (the paid_at index), never the whole history.
    orders = _sold().filter(paid_at__gte=min(start for start, _ in periods.values()),
                            paid_at__lt=max(end for _, end in periods.values()))
    if broker is not None:
        orders = orders.filter(broker=broker)
    aggregates = {}
    for name, (start, end) in periods.items():
        window = Q(paid_at__gte=start, paid_at__lt=end)
        aggregates[f"{name}__orders"] = Count("id", filter=window)
        aggregates[f"{name}__sales"] = _sum("total_charged", window)
        aggregates[f"{name}__platform_net_revenue"] = _sum("platform_net_revenue", window)
        aggregates[f"{name}__broker_revenue_share"] = _sum("broker_revenue_share", window)
        aggregates[f"{name}__broker_markup"] = _sum("broker_markup", window)
        aggregates[f"{name}__refunded"] = _sum("amount_refunded", window)
    row = orders.aggregate(**aggregates)
    result: dict = {}
    for name, (start, end) in periods.items():
        result[name] = {
            "start": start,
            "end": end,
            "orders": row[f"{name}__orders"],
            "sales": row[f"{name}__sales"],
            "platform_net_revenue": row[f"{name}__platform_net_revenue"],
            "broker_commissions": row[f"{name}__broker_revenue_share"] + row[f"{name}__broker_markup"],
            "refunded": row[f"{name}__refunded"],
        }
    return result


def orders_by_status(*, now: datetime | None = None) -> list[dict]:
    """Orders *created* in each period, by status: [{"status", "label", "today", "month", "last_30_days"}]."""
    periods = utc_periods(now=now)
    since = min(start for start, _ in periods.values())
    rows = (
        Order.objects.filter(created_at__gte=since)
        .values("status")
        .annotate(**{name: Count("id", filter=Q(created_at__gte=start, created_at__lt=end))
                     for name, (start, end) in periods.items()})
    )
    counts = {row["status"]: row for row in rows}
    return [
        {"status": status.value, "label": status.label,
         **{name: counts.get(status.value, {}).get(name, 0) for name in periods}}
        for status in OrderStatus
    ]


def orders_needing_attention(*, limit: int = 25) -> QuerySet[Order]:
    """Orders an admin must look at: held for review (payment mismatch) or fulfillment given up."""
    return (
        Order.objects.filter(
            Q(status=OrderStatus.ON_HOLD)
            | (Q(fulfillment_status=FulfillmentStatus.FAILED) & ~Q(status__in=[OrderStatus.REFUNDED,
                                                                                 OrderStatus.CANCELLED]))
        )
        .select_related("broker")
        .order_by("created_at")[:limit]
    )


def orders_needing_attention_count() -> int:
    return Order.objects.filter(
        Q(status=OrderStatus.ON_HOLD)
        | (Q(fulfillment_status=FulfillmentStatus.FAILED) & ~Q(status__in=[OrderStatus.REFUNDED,
                                                                             OrderStatus.CANCELLED]))
    ).count()


def daily_sales(*, days: int = 30, broker=None, now: datetime | None = None) -> list[dict]:
    """One row per UTC day (oldest first, zero days included): {"day", "orders", "sales"} of paid orders."""
    today = (now or timezone.now()).astimezone(UTC).date()
    first = today - timedelta(days=days - 1)
    orders = _sold().filter(paid_at__gte=datetime.combine(first, time.min, tzinfo=UTC))
    if broker is not None:
        orders = orders.filter(broker=broker)
    rows = (
        orders.annotate(day=TruncDate("paid_at", tzinfo=UTC))
        .values("day")
        .annotate(orders=Count("id"), sales=Coalesce(Sum("total_charged"), ZERO))
        .order_by("day")
    )
    by_day = {row["day"]: row for row in rows}
    series = []
    for offset in range(days):
        day = first + timedelta(days=offset)
        row = by_day.get(day, {})
        series.append({"day": day, "orders": row.get("orders", 0), "sales": row.get("sales", 0)})
    return series


def _percent(numerator: int, denominator: int) -> Decimal | None:
    """numerator / denominator in percent, one decimal, capped at 100: a later funnel step can
    outnumber an earlier one only through orders that never passed the widget (a server-side
    checkout with the secret key), and a conversion above 100 % would say nothing true."""
    if not denominator:
        return None
    value = (Decimal(numerator) * 100 / Decimal(denominator)).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)
    return min(value, Decimal("100.0"))


FUNNEL_STEPS = (
    ("widget_loads", "Widget views"),
    ("unique_visitors", "Unique visitors"),
    ("cart_adds", "Cart adds"),
    ("checkout_starts", "Checkout starts"),
    ("orders", "Paid orders"),
)


def funnel_steps(figures: dict) -> list[dict]:
    """The funnel as rows for a table or chart: each step with its share of widget views and of the
    step before it (both capped at 100 %)."""
    rows = []
    previous = None
    for key, label in FUNNEL_STEPS:
        count = figures.get(key, 0)
        rows.append({
            "key": key, "label": label, "count": count,
            "of_views_percent": _percent(count, figures.get("widget_loads", 0)),
            "of_previous_percent": _percent(count, previous) if previous is not None else None,
        })
        previous = count
    return rows


def broker_funnel(*, broker=None, days: int = 30, now: datetime | None = None) -> dict:
    """Funnel totals of the last `days` UTC days, for one broker or (broker=None) all of them."""
    today = (now or timezone.now()).astimezone(UTC).date()
    rows = BrokerDailyStats.objects.filter(date__gte=today - timedelta(days=days - 1), date__lte=today)
    if broker is not None:
        rows = rows.filter(broker=broker)
    figures = rows.aggregate(
        widget_loads=Coalesce(Sum("widget_loads"), ZERO),
        unique_visitors=Coalesce(Sum("unique_visitors"), ZERO),
        cart_adds=Coalesce(Sum("cart_adds"), ZERO),
        checkout_starts=Coalesce(Sum("checkout_starts"), ZERO),
        orders=Coalesce(Sum("orders_count"), ZERO),
    )
    return {
        **figures,
        "checkout_rate_percent": _percent(figures["checkout_starts"], figures["widget_loads"]),
        "conversion_percent": _percent(figures["orders"], figures["widget_loads"]),
        "steps": funnel_steps(figures),
    }


def broker_performance(*, broker, days: int = 30, now: datetime | None = None) -> dict:
    """A broker's figures: all time and the last `days` days (sales, earnings, refunds, funnel).

    `earnings` come from the commission ledger (net of refunds and lost disputes); `revenue_share`
    and `markup` are the sold orders' terms at sale."""
    today = (now or timezone.now()).astimezone(UTC).date()
    first = today - timedelta(days=days - 1)
    recent = Q(paid_at__gte=datetime.combine(first, time.min, tzinfo=UTC))
    money = _sold().filter(broker=broker).aggregate(
        orders=Count("id"),
        sales=Coalesce(Sum("total_charged"), ZERO),
        revenue_share=Coalesce(Sum("broker_revenue_share"), ZERO),
        markup=Coalesce(Sum("broker_markup"), ZERO),
        refunded=Coalesce(Sum("amount_refunded"), ZERO),
        recent_orders=Count("id", filter=recent),
        recent_sales=_sum("total_charged", recent),
    )
    funnel = broker_funnel(broker=broker, days=days, now=now)
    return {
        "days": days,
        "all_time": {
            "orders": money["orders"],
            "sales": money["sales"],
            "earnings": earned_totals(Order.objects.filter(broker=broker), broker_id=broker.pk)["total"],
            "revenue_share": money["revenue_share"],
            "markup": money["markup"],
            "refunded": money["refunded"],
        },
        "recent": {
            "orders": money["recent_orders"],
            "sales": money["recent_sales"],
            "earnings": earned_totals(
                Order.objects.filter(broker=broker, paid_at__gte=datetime.combine(first, time.min, tzinfo=UTC)),
                broker_id=broker.pk)["total"],
        },
        "funnel": funnel,
    }


def broker_daily_funnel(*, broker, days: int = 30, now: datetime | None = None) -> list[dict]:
    """One row per UTC day (oldest first): widget views, unique visitors, cart adds, checkout starts,
    orders, sales (from daily stats)."""
    today = (now or timezone.now()).astimezone(UTC).date()
    first = today - timedelta(days=days - 1)
    rows = {
        row["date"]: row
        for row in BrokerDailyStats.objects.filter(broker=broker, date__gte=first, date__lte=today).values(
            "date", "widget_loads", "unique_visitors", "cart_adds", "checkout_starts", "orders_count", "total_sales"
        )
    }
    series = []
    for offset in range(days):
        day = first + timedelta(days=offset)
        row = rows.get(day, {})
        series.append({
            "day": day,
            "widget_loads": row.get("widget_loads", 0),
            "unique_visitors": row.get("unique_visitors", 0),
            "cart_adds": row.get("cart_adds", 0),
            "checkout_starts": row.get("checkout_starts", 0),
            "orders": row.get("orders_count", 0),
            "sales": row.get("total_sales", 0),
        })
    return series
