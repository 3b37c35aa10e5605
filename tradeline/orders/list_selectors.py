"""Order lists: the admin search, list filters, filtered and paginated (page or cursor) lists, and
their summary computed by the database (one aggregate query, never rows summed in Python).

Summary definition: it covers the *paid* orders among those matching the filters, i.e. status
PROCESSING, COMPLETED or REFUNDED (money was received; a partial refund keeps PROCESSING/COMPLETED).
PENDING, CANCELLED, FAILED and ON_HOLD (payment under review) are listed but not summed.
  revenue                = Σ total_charged        refunded = Σ amount_refunded
  net_revenue            = revenue − refunded
  platform_net_revenue   = Σ platform_net_revenue (as frozen at sale, before refunds)
  commission             = Σ broker_revenue_share + Σ broker_markup (as frozen at sale, before refunds;
                           the commission ledger in payouts holds the refund-adjusted figures)

A broker's list (`order_list(broker=...)`) takes its earnings from the commission ledger (see
orders.selectors) and never includes our margins.
"""
import base64
import binascii
import hashlib
import re
import uuid
from datetime import UTC, date, datetime, time, timedelta

from django.core.cache import cache
from django.db.models import Count, Q, QuerySet, Sum, Value
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime

from tradeline.brokers.models import Broker
from tradeline.core.errors import ValidationFailed
from tradeline.core.pagination import estimated_count
from tradeline.orders.models import Order, OrderItem, OrderStatus
from tradeline.orders.selectors import PAID_STATUSES, _iso, _money, earned_annotations, earned_totals

# Dates a list filter accepts (inclusive): wide enough for any order, far from the calendar's ends.
FILTER_FIRST_DAY = date(1970, 1, 1)
FILTER_LAST_DAY = date(2999, 12, 31)
DEFAULT_LIMIT = 20
MAX_LIMIT = 100
ORDER_NUMBER = re.compile(r"TLM-[0-9]{4}-[0-9A-Z]{6}")  # orders.services.order_number_generate
SUMMARY_LIVE_ROWS = 100_000
SUMMARY_CACHE_SECONDS = 60
LIST_FIELDS = ("id", "order_number", "customer_email", "customer_name", "status", "payment_status",
               "fulfillment_status", "created_at", "paid_at", "total_charged", "broker_revenue_share",
               "broker_markup", "amount_refunded", "platform_net_revenue", "broker_id", "broker__name",
               "broker__business_name")


# --- search ----------------------------------------------------------------------------------------

def order_search_filter(term: str) -> Q:
    """Orders an admin means by a search term, each part answered by an index (no `icontains` over
    the orders): order numbers starting with it (TLM-2611-7Q4K9X, or just TLM-2611 for a month),
    a customer email (exact, as typed or lower-cased), or the orders of brokers whose name, business
    name or email contains it (brokers are few)."""
    term = term.strip()
    if not term:
        return Q()
    brokers = list(Broker.objects.filter(Q(name__icontains=term) | Q(business_name__icontains=term)
                                         | Q(email__icontains=term)).values_list("pk", flat=True))
    number = term.upper()
    # A whole order number (what is pasted most often) is one probe of the unique index.
    by_number = Q(order_number=number) if ORDER_NUMBER.fullmatch(number) else Q(order_number__startswith=number)
    return by_number | Q(customer_email__in={term, term.lower()}) | Q(broker_id__in=brokers)


# --- lists ---------------------------------------------------------------------------------------

def _parse_when(value, field: str):
    """ISO text -> date (YYYY-MM-DD) or datetime; date/datetime objects pass through."""
    if value is None or isinstance(value, (date, datetime)):
        return value
    text = str(value).strip()
    if not text:
        return None
    try:
        parsed = parse_date(text) if len(text) == 10 else parse_datetime(text)
    except ValueError:
        parsed = None
    if parsed is None:
        raise ValidationFailed(f"{field} must be an ISO 8601 date or date-time.", code="INVALID_DATE",
                               details=[{"field": field, "message": "e.g. 2026-11-01 or 2026-11-01T12:00:00Z"}])
    day = parsed.date() if isinstance(parsed, datetime) else parsed
    if not FILTER_FIRST_DAY <= day <= FILTER_LAST_DAY:
        # The next day / UTC conversion of 9999-12-31 overflows Python and PostgreSQL: refuse early.
        raise ValidationFailed(f"{field} must be between {FILTER_FIRST_DAY} and {FILTER_LAST_DAY}.",
                               code="DATE_OUT_OF_RANGE",
                               details=[{"field": field, "message": f"{FILTER_FIRST_DAY} .. {FILTER_LAST_DAY}"}])
    return parsed


def _as_start(value) -> datetime | None:
    """A date means its first instant (UTC); a naive datetime is taken as UTC."""
    value = _parse_when(value, "start_date")
    if value is None:
        return None
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    if isinstance(value, date):
        return datetime.combine(value, time.min, tzinfo=UTC)
    raise ValidationFailed("start_date must be a date or a date-time.", code="INVALID_DATE")


def _as_end(value) -> tuple[datetime, bool] | None:
    """(bound, inclusive). A date includes its whole day: created_at < the next day's 00:00 UTC."""
    value = _parse_when(value, "end_date")
    if value is None:
        return None
    if isinstance(value, datetime):
        return (value if value.tzinfo else value.replace(tzinfo=UTC)), True
    if isinstance(value, date):
        return datetime.combine(value + timedelta(days=1), time.min, tzinfo=UTC), False
    raise ValidationFailed("end_date must be a date or a date-time.", code="INVALID_DATE")


def order_filter(
    *, broker_id=None, direct_only: bool = False, status: str | None = None, start_date=None, end_date=None
) -> QuerySet[Order]:
    """Orders matching the filters (no ordering, no paging). Bad filter values are 422s."""
    queryset = Order.objects.all()
    if direct_only:
        queryset = queryset.filter(broker__isnull=True)
    elif broker_id is not None:
        queryset = queryset.filter(broker_id=broker_id)
    if status:
        if status not in OrderStatus.values:
            raise ValidationFailed(
                "Unknown status.", code="INVALID_STATUS",
                details=[{"field": "status", "message": f"one of {', '.join(OrderStatus.values)}"}],
            )
        queryset = queryset.filter(status=status)
    start = _as_start(start_date)
    end = _as_end(end_date)
    if start is not None and end is not None and (end[0] < start if end[1] else end[0] <= start):
        raise ValidationFailed("end_date is before start_date.", code="INVALID_DATE_RANGE",
                               details=[{"field": "end_date", "message": "must not be before start_date"}])
    if start is not None:
        queryset = queryset.filter(created_at__gte=start)
    if end is not None:
        bound, inclusive = end
        queryset = queryset.filter(created_at__lte=bound) if inclusive else queryset.filter(created_at__lt=bound)
    return queryset


def order_summary_for_list(queryset: QuerySet[Order], *, for_broker: Broker | None = None) -> dict:
    """The list's summary: computed on every request while the planner expects at most
    SUMMARY_LIVE_ROWS matching orders (an index-only scan: a broker's, a status's, a month's orders);
    over more (all orders, a year) one aggregate costs a second of CPU, so it is computed at most
    once per SUMMARY_CACHE_SECONDS for the same filters and served with `as_of`, the time it was
    computed. On SQLite (development, tests) always computed. `for_broker`: see order_summary."""
    estimate = estimated_count(queryset)
    if estimate is None or estimate <= SUMMARY_LIVE_ROWS:
        return {**order_summary(queryset, for_broker=for_broker), "as_of": None}
    key = f"orders:summary:{'admin' if for_broker is None else 'broker'}:" + hashlib.sha256(
        str(queryset.query).encode()).hexdigest()
    summary = cache.get(key)
    if summary is None:
        summary = {**order_summary(queryset, for_broker=for_broker), "as_of": timezone.now().isoformat()}
        cache.set(key, summary, SUMMARY_CACHE_SECONDS)
    return summary


def order_summary(queryset: QuerySet[Order], *, for_broker: Broker | None = None) -> dict:
    """One aggregate query over the paid orders of `queryset` (see the module docstring).

    `for_broker`: the broker's own view of its orders (`queryset` holds only that broker's): share,
    markup and commission from the commission ledger (net of clawbacks), and no platform net revenue."""
    zero = Value(0)
    paid = Q(status__in=PAID_STATUSES)
    figures = queryset.aggregate(
        orders_count=Count("pk"),
        paid_orders_count=Count("pk", filter=paid),
        revenue=Coalesce(Sum("total_charged", filter=paid), zero),
        refunded=Coalesce(Sum("amount_refunded", filter=paid), zero),
        platform_net_revenue=Coalesce(Sum("platform_net_revenue", filter=paid), zero),
        revenue_share=Coalesce(Sum("broker_revenue_share", filter=paid), zero),
        markup=Coalesce(Sum("broker_markup", filter=paid), zero),
    )
    out = {"orders_count": figures["orders_count"], "paid_orders_count": figures["paid_orders_count"],
           "counted_statuses": list(PAID_STATUSES)}
    for name in ("revenue", "refunded", "platform_net_revenue", "revenue_share", "markup"):
        out.update(_money(name, int(figures[name])))
    out.update(_money("net_revenue", int(figures["revenue"]) - int(figures["refunded"])))
    out.update(_money("commission", int(figures["revenue_share"]) + int(figures["markup"])))
    if for_broker is not None:
        earned = earned_totals(queryset, broker_id=for_broker.pk)
        out.update(_money("revenue_share", earned["revenue_share"]))
        out.update(_money("markup", earned["markup"]))
        out.update(_money("commission", earned["total"]))
        for name in ("platform_net_revenue", "platform_net_revenue_usd"):
            del out[name]
    return out


def _row(order: dict, *, with_broker: bool) -> dict:
    out = {
        "id": str(order["id"]),
        "order_number": order["order_number"],
        "customer_email": order["customer_email"],
        "customer_name": order["customer_name"],
        "status": order["status"],
        "payment_status": order["payment_status"],
        "fulfillment_status": order["fulfillment_status"],
        "items_count": order["items_count"],
        "created_at": _iso(order["created_at"]),
        "paid_at": _iso(order["paid_at"]),
    }
    if not with_broker:  # the broker's own view: what it earns, from the ledger
        order = {**order, "broker_revenue_share": order["earned_revenue_share"], "broker_markup": order["earned_markup"]}
    for name in ("total_charged", "broker_revenue_share", "broker_markup", "amount_refunded"):
        out.update(_money(name, order[name]))
    out.update(_money("broker_earnings", order["broker_revenue_share"] + order["broker_markup"]))
    if with_broker:
        out.update(_money("platform_net_revenue", order["platform_net_revenue"]))
        out["broker"] = (
            {"id": str(order["broker_id"]), "name": order["broker__name"],
             "business_name": order["broker__business_name"]}
            if order["broker_id"] else None
        )
    return out


def order_cursor(order) -> str:
    """The opaque position just after `order` (a row dict or an Order) in the newest-first list."""
    created_at = order["created_at"] if isinstance(order, dict) else order.created_at
    pk = order["id"] if isinstance(order, dict) else order.pk
    raw = f"{created_at.astimezone(UTC).isoformat()}|{pk}".encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _after_cursor(queryset: QuerySet[Order], cursor: str) -> QuerySet[Order]:
    """The orders after the cursor's position, newest first (keyset: an index range, no offset)."""
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        when, pk = raw.split("|")
        created_at, pk = datetime.fromisoformat(when), uuid.UUID(pk)
        if created_at.tzinfo is None:
            raise ValueError("naive")
    except (ValueError, UnicodeDecodeError, binascii.Error):
        raise ValidationFailed("cursor is not one this list handed out.", code="INVALID_CURSOR",
                               details=[{"field": "cursor", "message": "use the `next` of a previous page"}]) from None
    # `created_at <= t` is the index range; the OR only breaks ties between orders of the same instant.
    return queryset.filter(created_at__lte=created_at).filter(Q(created_at__lt=created_at) | Q(pk__lt=pk))


def _items_counts(order_ids: list) -> dict:
    """Items per order, for one page of orders (one grouped query over those orders only)."""
    rows = OrderItem.objects.filter(order_id__in=order_ids).values("order_id").annotate(n=Count("id"))
    return {row["order_id"]: row["n"] for row in rows}


def _page_rows(ordered: QuerySet[Order], *, page: int, limit: int, cursor: str | None) -> tuple[list[dict], bool]:
    """One page of list rows (with items_count) and whether more follow. The page's ids come first
    (read from the list index alone, however deep the offset), then the rows of those ids."""
    if cursor:
        window = _after_cursor(ordered, cursor)[:limit + 1]
    else:
        offset = (page - 1) * limit
        window = ordered[offset:offset + limit + 1]
    ids = list(window.values_list("pk", flat=True))
    more, ids = len(ids) > limit, ids[:limit]
    by_id = {row["id"]: row for row in Order.objects.filter(pk__in=ids).values(*LIST_FIELDS)}
    rows = [by_id[pk] for pk in ids if pk in by_id]
    counts = _items_counts(ids)
    for row in rows:
        row["items_count"] = counts.get(row["id"], 0)
    return rows, more


def _add_earned(rows: list[dict]) -> None:
    """The ledger's earned share and markup on each row of a broker's page (one query for the page)."""
    earned = {row["id"]: row for row in Order.objects.filter(pk__in=[row["id"] for row in rows])
              .annotate(**earned_annotations()).values("id", "earned_revenue_share", "earned_markup")}
    for row in rows:
        row.update(earned_revenue_share=earned[row["id"]]["earned_revenue_share"],
                   earned_markup=earned[row["id"]]["earned_markup"])


def order_latest(*, broker: Broker, limit: int = 5) -> list[dict]:
    """A broker's newest orders as list rows, without a summary (the portal dashboard)."""
    rows, _ = _page_rows(Order.objects.filter(broker=broker).order_by("-created_at", "-pk"), page=1, limit=limit,
                         cursor=None)
    _add_earned(rows)
    return [_row(row, with_broker=False) for row in rows]


def order_list(
    *,
    broker: Broker | None = None,
    broker_id=None,
    direct_only: bool = False,
    status: str | None = None,
    start_date=None,
    end_date=None,
    page: int = 1,
    limit: int = DEFAULT_LIMIT,
    cursor: str | None = None,
) -> dict:
    """A page of orders (newest first) with pagination and the summary of all matching orders.

    `broker` restricts to one broker's own orders (the broker's view); admins pass `broker_id`
    (or `direct_only`) to filter, or nothing to see everything. Pages go by number (`page`, an
    offset: fine for the first pages) or by `cursor`, the `next` of the previous page (keyset: as
    fast on the thousandth page as on the first). `next` is null on the last page.
    """
    if isinstance(page, bool) or not isinstance(page, int) or page < 1:
        raise ValidationFailed("page must be 1 or more.", code="INVALID_PAGE")
    if isinstance(limit, bool) or not isinstance(limit, int) or not 1 <= limit <= MAX_LIMIT:
        raise ValidationFailed(f"limit must be from 1 to {MAX_LIMIT}.", code="INVALID_LIMIT")
    if cursor and page != 1:
        raise ValidationFailed("Give either page or cursor, not both.", code="INVALID_CURSOR",
                               details=[{"field": "cursor", "message": "a cursor already says where the page is"}])
    if broker is not None:
        broker_id, direct_only = broker.pk, False
    queryset = order_filter(broker_id=broker_id, direct_only=direct_only, status=status,
                            start_date=start_date, end_date=end_date)
    with_broker = broker is None
    summary = order_summary_for_list(queryset, for_broker=broker)
    total = summary["orders_count"]
    rows, more = _page_rows(queryset.order_by("-created_at", "-pk"), page=page, limit=limit, cursor=cursor)
    if not with_broker:
        _add_earned(rows)
    return {
        "orders": [_row(row, with_broker=with_broker) for row in rows],
        "pagination": {"page": page, "limit": limit, "total": total, "pages": (total + limit - 1) // limit},
        "next": order_cursor(rows[-1]) if more else None,
        "summary": summary,
    }


def order_cursor_at(position: int, *, broker: Broker | None = None) -> str:
    """The cursor after the `position`-th newest order (of `broker`, or of all): deep links, benchmarks."""
    queryset = Order.objects.filter(broker=broker) if broker is not None else Order.objects.all()
    order = queryset.order_by("-created_at", "-pk").values("id", "created_at")[position - 1]
    return order_cursor(order)
