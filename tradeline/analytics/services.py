"""Daily broker figures, incremented with F() expressions (never read-modify-write)."""

from datetime import date

from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone

from tradeline.analytics.models import BrokerDailyStats

COUNTERS = {
    "widget_loads", "checkout_starts", "orders_count", "total_sales", "revenue_share_earned", "markup_earned",
    "refunds_count", "refunded_amount",
}


def stats_increment(*, broker_id, day: date | None = None, **deltas: int) -> None:
    """Add `deltas` to the broker's row for `day` (UTC today by default), creating it if needed.

    Safe under concurrency: the row is created under its unique constraint, then updated with
    F() expressions, so concurrent increments add up. Call inside the caller's transaction.
    """
    unknown = set(deltas) - COUNTERS
    if unknown:
        raise ValueError(f"unknown counters: {sorted(unknown)}")
    deltas = {name: value for name, value in deltas.items() if value}
    if not deltas:
        return
    day = day or timezone.now().date()
    updates = {name: F(name) + value for name, value in deltas.items()}
    if BrokerDailyStats.objects.filter(broker_id=broker_id, date=day).update(**updates):
        return
    try:
        with transaction.atomic():
            BrokerDailyStats.objects.create(broker_id=broker_id, date=day, **deltas)
            return
    except IntegrityError:
        pass  # another transaction created the row first
    BrokerDailyStats.objects.filter(broker_id=broker_id, date=day).update(**updates)


def widget_load_record(*, broker_id) -> None:
    """Count one widget load for the broker's current UTC day."""
    stats_increment(broker_id=broker_id, widget_loads=1)
