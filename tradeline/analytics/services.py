"""Daily broker figures, incremented in place (`counter = counter + n`, never read-modify-write)."""

from datetime import date

from django.db import IntegrityError, connections, router, transaction
from django.utils import timezone

from tradeline.analytics.models import BrokerDailyStats

COUNTERS = {
    "widget_loads", "checkout_starts", "orders_count", "total_sales", "revenue_share_earned", "markup_earned",
    "refunds_count", "refunded_amount",
}


def stats_increment(*, broker_id, day: date | None = None, **deltas: int) -> None:
    """Add `deltas` to the broker's row for `day` (UTC today by default), creating it if needed.

    Safe under concurrency: the row is created under its unique constraint, then updated in
    place, so concurrent increments add up. Call inside the caller's transaction.
    """
    unknown = set(deltas) - COUNTERS
    if unknown:
        raise ValueError(f"unknown counters: {sorted(unknown)}")
    deltas = {name: value for name, value in deltas.items() if value}
    if not deltas:
        return
    day = day or timezone.now().date()
    if _add(broker_id, day, deltas):
        return
    try:
        with transaction.atomic():
            BrokerDailyStats.objects.create(broker_id=broker_id, date=day, **deltas)
            return
    except IntegrityError:
        pass  # another transaction created the row first
    _add(broker_id, day, deltas)


def _add(broker_id, day: date, deltas: dict[str, int]) -> bool:
    """One UPDATE adding each delta to its counter on the (broker, day) row; False if there is no
    such row. Written out: the same UPDATE built from F() expressions costs ten times the CPU, on
    every paid order, checkout and widget load. The counter names are checked against COUNTERS."""
    meta = BrokerDailyStats._meta
    connection = connections[router.db_for_write(BrokerDailyStats)]
    qn = connection.ops.quote_name
    columns = [qn(meta.get_field(name).column) for name in deltas]
    broker = meta.get_field("broker")
    sql = (f"UPDATE {qn(meta.db_table)} SET {', '.join(f'{c} = {c} + %s' for c in columns)} "
           f"WHERE {qn(broker.column)} = %s AND {qn(meta.get_field('date').column)} = %s")
    params = [*deltas.values(), broker.get_db_prep_value(broker_id, connection),
              connection.ops.adapt_datefield_value(day)]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.rowcount > 0


def widget_load_record(*, broker_id) -> None:
    """Count one widget load for the broker's current UTC day."""
    stats_increment(broker_id=broker_id, widget_loads=1)
