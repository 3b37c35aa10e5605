"""Revenue reports: money of the orders *paid* in a UTC date range, grouped by day, week, month or
broker, with the previous period of the same length for growth.

"Paid" is the ledger's definition (reconcile): the payment SUCCEEDED / PARTIALLY_REFUNDED /
REFUNDED and the paid transition ran (fulfillment started), so the report's commissions are the
ledger's commissions. Money is the order's frozen figures (sales = total charged = supplier cost +
platform net + broker share + broker markup, exactly); refunds and lost disputes are counted
against the day the order was paid.

Each figure set is one aggregate query (GROUP BY in SQL); "top brokers" is served from the brokers'
daily figures (analytics.BrokerDailyStats: one row per broker and day, kept equal to the paid orders
by the paid transition and checked by reconcile), which are far fewer rows than orders.
"""

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal

from django.db.models import Count, F, Q, Sum
from django.db.models.functions import TruncDate, TruncMonth, TruncWeek

from tradeline.analytics.models import BrokerDailyStats
from tradeline.brokers.models import Broker
from tradeline.core.errors import ValidationFailed
from tradeline.core.money import proportion_of
from tradeline.orders.models import DisputeStatus, FulfillmentStatus, Order, PaymentStatus

GROUPS = ("day", "week", "month", "broker")
MAX_DAYS = 1100
PAID = (PaymentStatus.SUCCEEDED, PaymentStatus.PARTIALLY_REFUNDED, PaymentStatus.REFUNDED)
BASE = ("orders", "sales", "refunds", "disputes_lost", "disputes_lost_count", "supplier_cost",
        "platform_net_revenue", "broker_revenue_share", "broker_markup")
FIGURES = (*BASE, "broker_commissions", "average_order_value")
COUNT_FIGURES = ("orders", "disputes_lost_count")
MONEY_FIGURES = tuple(name for name in FIGURES if name not in COUNT_FIGURES)
GROWTH_FIGURES = ("orders", "sales", "platform_net_revenue", "broker_commissions", "average_order_value")


@dataclass(frozen=True)
class Period:
    start: date  # first day (UTC)
    end: date  # last day, inclusive

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1

    def bounds(self) -> tuple[datetime, datetime]:
        return (datetime.combine(self.start, time.min, tzinfo=UTC),
                datetime.combine(self.end + timedelta(days=1), time.min, tzinfo=UTC))

    def previous(self) -> "Period":
        return Period(self.start - timedelta(days=self.days), self.start - timedelta(days=1))


def _invalid(field: str, message: str) -> ValidationFailed:
    return ValidationFailed(message, code="INVALID_REPORT_QUERY",
                            details=[{"field": field, "message": message, "type": "invalid"}])


def report_period(*, start: str | None, end: str | None, today: date | None = None) -> Period:
    """The UTC date range of a report: `start`..`end` inclusive (YYYY-MM-DD); default the last 30 days."""
    today = today or datetime.now(UTC).date()
    try:
        end_day = date.fromisoformat(end) if end else today
    except (TypeError, ValueError):
        raise _invalid("end", "end must be a date, YYYY-MM-DD.") from None
    try:
        start_day = date.fromisoformat(start) if start else end_day - timedelta(days=29)
    except (TypeError, ValueError):
        raise _invalid("start", "start must be a date, YYYY-MM-DD.") from None
    if start_day > end_day:
        raise _invalid("start", "start must not be after end.")
    if (end_day - start_day).days + 1 > MAX_DAYS:
        raise _invalid("end", f"A report covers at most {MAX_DAYS} days.")
    return Period(start_day, end_day)


def paid_orders():
    return Order.objects.order_by().filter(payment_status__in=PAID).exclude(
        fulfillment_status=FulfillmentStatus.NOT_STARTED)


def _aggregates() -> dict:
    lost = Q(dispute_status=DisputeStatus.LOST)
    return {
        "orders": Count("pk"),
        "sales": Sum("total_charged", default=0),
        "refunds": Sum("amount_refunded", default=0),
        "disputes_lost": Sum(F("amount_paid") - F("amount_refunded"), filter=lost, default=0),
        "disputes_lost_count": Count("pk", filter=lost),
        "supplier_cost": Sum("supplier_cost", default=0),
        "platform_net_revenue": Sum("platform_net_revenue", default=0),
        "broker_revenue_share": Sum("broker_revenue_share", default=0),
        "broker_markup": Sum("broker_markup", default=0),
    }


def _complete(row: dict) -> dict:
    figures = {name: int(row.get(name) or 0) for name in BASE}
    figures["broker_commissions"] = figures["broker_revenue_share"] + figures["broker_markup"]
    figures["average_order_value"] = proportion_of(figures["sales"], 1, figures["orders"]) if figures["orders"] else 0
    return figures


def _totals(period: Period) -> dict:
    start, end = period.bounds()
    return _complete(paid_orders().filter(paid_at__gte=start, paid_at__lt=end).aggregate(**_aggregates()))


_TRUNC = {"day": TruncDate, "week": TruncWeek, "month": TruncMonth}


def _bucket_start(day: date, group_by: str) -> date:
    if group_by == "week":
        return day - timedelta(days=day.weekday())
    if group_by == "month":
        return day.replace(day=1)
    return day


def _time_rows(period: Period, group_by: str) -> list[dict]:
    start, end = period.bounds()
    trunc = _TRUNC[group_by]("paid_at", tzinfo=UTC)
    found = {}
    for row in (paid_orders().filter(paid_at__gte=start, paid_at__lt=end).annotate(bucket=trunc)
                .values("bucket").annotate(**_aggregates())):
        bucket = row.pop("bucket")
        bucket = bucket.date() if isinstance(bucket, datetime) else bucket
        found[bucket] = _complete(row)
    rows, bucket = [], _bucket_start(period.start, group_by)
    while bucket <= period.end:  # every bucket, empty ones too: charts need the gaps
        rows.append({"key": bucket.isoformat(), "label": _label(bucket, group_by), "day": bucket,
                     **found.get(bucket, _complete({}))})
        bucket = (bucket + timedelta(days=7) if group_by == "week"
                  else (bucket.replace(day=28) + timedelta(days=4)).replace(day=1) if group_by == "month"
                  else bucket + timedelta(days=1))
    return rows


def _label(bucket: date, group_by: str) -> str:
    if group_by == "week":
        return f"week of {bucket.isoformat()}"
    if group_by == "month":
        return bucket.strftime("%Y-%m")
    return bucket.isoformat()


def _broker_rows(period: Period) -> list[dict]:
    start, end = period.bounds()
    rows = list(paid_orders().filter(paid_at__gte=start, paid_at__lt=end).values("broker_id")
                .annotate(**_aggregates()).order_by("-sales", "broker_id"))
    names = dict(Broker.objects.filter(pk__in=[r["broker_id"] for r in rows if r["broker_id"]])
                 .values_list("pk", "name"))
    result = []
    for row in rows:
        broker_id = row.pop("broker_id")
        result.append({"key": str(broker_id) if broker_id else "direct",
                       "label": names.get(broker_id, "Direct sales") if broker_id else "Direct sales",
                       "broker_id": str(broker_id) if broker_id else None, **_complete(row)})
    return result


def top_brokers(period: Period, *, limit: int = 10) -> list[dict]:
    """The brokers with the most sales in the period, from their daily figures."""
    rows = (BrokerDailyStats.objects.order_by().filter(date__gte=period.start, date__lte=period.end)
            .values("broker_id").annotate(orders=Sum("orders_count"), sales=Sum("total_sales"),
                                          share=Sum("revenue_share_earned"), markup=Sum("markup_earned"))
            .filter(orders__gt=0).order_by("-sales", "broker_id")[:limit])
    rows = list(rows)
    names = dict(Broker.objects.filter(pk__in=[r["broker_id"] for r in rows]).values_list("pk", "name"))
    return [{"broker_id": str(r["broker_id"]), "name": names.get(r["broker_id"], ""), "orders": r["orders"],
             "sales": r["sales"], "broker_commissions": r["share"] + r["markup"]} for r in rows]


def growth_percent(current: int, previous: int) -> Decimal | None:
    """(current - previous) / previous in percent, two decimals; None when there was nothing before."""
    if not previous:
        return None
    return (Decimal(current - previous) * 100 / Decimal(previous)).quantize(Decimal("0.01"))


def revenue_report(*, period: Period, group_by: str) -> dict:
    if group_by not in GROUPS:
        raise _invalid("group_by", "group_by must be one of day, week, month, broker.")
    rows = _broker_rows(period) if group_by == "broker" else _time_rows(period, group_by)
    # The rows cover the period exactly once: their sums are the totals (no second scan of the orders).
    totals = _complete({name: sum(row[name] for row in rows) for name in BASE})
    previous_period = period.previous()
    previous = _totals(previous_period)
    return {
        "start": period.start, "end": period.end, "group_by": group_by,
        "rows": rows,
        "totals": totals,
        "previous": {"start": previous_period.start, "end": previous_period.end, **previous},
        "growth": {name: growth_percent(totals[name], previous[name]) for name in GROWTH_FIGURES},
        "top_brokers": top_brokers(period),
    }
