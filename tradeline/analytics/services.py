"""Daily broker figures, incremented in place (`counter = counter + n`, never read-modify-write)."""

import hashlib
import secrets
from datetime import date

from django.db import IntegrityError, connections, router, transaction
from django.utils import timezone

from tradeline.analytics.models import BrokerDailyStats, VisitorDay, VisitorSalt

COUNTERS = {
    "widget_loads", "unique_visitors", "cart_adds", "checkout_starts", "orders_count", "total_sales",
    "revenue_share_earned", "markup_earned", "refunds_count", "refunded_amount",
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


def widget_load_record(*, broker_id, client_ip: str = "", user_agent: str = "") -> None:
    """Count one widget view for the broker's current UTC day, and one unique visitor when this
    (IP address, user agent) pair has not been seen on the broker's widget today.

    The visitor is identified by sha256(daily salt, broker, IP, user agent) only: no cookie, and
    neither the IP nor the user agent is stored. The salt is random per UTC day; the first widget view
    of the next day deletes it with that day's hashes, so past visitors cannot be re-identified.
    """
    day = timezone.now().date()
    new_visitor = 0
    if client_ip or user_agent:
        digest = visitor_hash(broker_id=broker_id, day=day, client_ip=client_ip, user_agent=user_agent)
        with transaction.atomic():
            try:
                with transaction.atomic():
                    VisitorDay.objects.create(broker_id=broker_id, date=day, visitor_hash=digest)
                new_visitor = 1
            except IntegrityError:
                new_visitor = 0  # seen today already
            stats_increment(broker_id=broker_id, day=day, widget_loads=1, unique_visitors=new_visitor)
        return
    stats_increment(broker_id=broker_id, day=day, widget_loads=1)


def cart_add_record(*, broker_id) -> None:
    """Count one "add to cart" in the widget for the broker's current UTC day."""
    stats_increment(broker_id=broker_id, cart_adds=1)


def _salt_for(day: date) -> str:
    salt = VisitorSalt.objects.filter(date=day).values_list("salt", flat=True).first()
    if salt is not None:
        return salt
    try:
        with transaction.atomic():
            VisitorSalt.objects.create(date=day, salt=secrets.token_hex(32))
    except IntegrityError:
        pass  # another request created today's salt first
    # A new day: forget the previous days' salts and hashes (once a day, by whoever gets here).
    VisitorSalt.objects.filter(date__lt=day).delete()
    VisitorDay.objects.filter(date__lt=day).delete()
    return VisitorSalt.objects.values_list("salt", flat=True).get(date=day)


def visitor_hash(*, broker_id, day: date, client_ip: str, user_agent: str) -> str:
    """The day's anonymous visitor id for one broker's widget."""
    material = "\x1f".join((_salt_for(day), str(broker_id), client_ip, user_agent[:512]))
    return hashlib.sha256(material.encode()).hexdigest()
