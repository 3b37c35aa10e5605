"""Order reads: one order with its commission breakdown, and filtered, paginated lists with a
summary computed by the database (one aggregate query, never rows summed in Python).

Summary definition: it covers the *paid* orders among those matching the filters, i.e. status
PROCESSING, COMPLETED or REFUNDED (money was received; a partial refund keeps PROCESSING/COMPLETED).
PENDING, CANCELLED, FAILED and ON_HOLD (payment under review) are listed but not summed.
  revenue                = Σ total_charged        refunded = Σ amount_refunded
  net_revenue            = revenue − refunded
  platform_net_revenue   = Σ platform_net_revenue (as frozen at sale, before refunds)
  commission             = Σ broker_revenue_share + Σ broker_markup (as frozen at sale, before refunds;
                           the commission ledger in payouts holds the refund-adjusted figures)
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
from tradeline.brokers.selectors import broker_scoped_get
from tradeline.core.errors import NotFound, ValidationFailed
from tradeline.core.money import cents_to_usd
from tradeline.core.pagination import estimated_count
from tradeline.orders.models import Order, OrderItem, OrderStatus

PAID_STATUSES = (OrderStatus.PROCESSING, OrderStatus.COMPLETED, OrderStatus.REFUNDED)
DEFAULT_LIMIT = 20
MAX_LIMIT = 100
ORDER_NUMBER = re.compile(r"TLM-[0-9]{4}-[0-9A-Z]{6}")  # orders.services.order_number_generate
SUMMARY_LIVE_ROWS = 100_000
SUMMARY_CACHE_SECONDS = 60
LIST_FIELDS = ("id", "order_number", "customer_email", "customer_name", "status", "payment_status",
               "fulfillment_status", "created_at", "paid_at", "total_charged", "broker_revenue_share",
               "broker_markup", "amount_refunded", "platform_net_revenue", "broker_id", "broker__name",
               "broker__business_name")


def _money(name: str, cents: int) -> dict:
    return {name: cents, f"{name}_usd": cents_to_usd(cents)}


def _iso(value) -> str | None:
    return value.isoformat() if value else None


# --- one order -----------------------------------------------------------------------------------

def parse_uuid(value) -> uuid.UUID:
    """A UUID from a UUID or its text; ValueError otherwise."""
    if isinstance(value, uuid.UUID):
        return value
    try:
        return uuid.UUID(str(value).strip())
    except (ValueError, TypeError, AttributeError):
        raise ValueError(f"not a UUID: {value!r}") from None


def order_get(*, order_id, broker: Broker | None = None) -> Order:
    """The order, or NotFound — also for a malformed id and for another broker's order.

    `broker=None` means an admin (any order); otherwise only that broker's orders are visible.
    """
    try:
        pk = parse_uuid(order_id)
    except ValueError:
        raise NotFound("Order not found.", code="ORDER_NOT_FOUND") from None
    orders = Order.objects.select_related("broker", "supplier_order").prefetch_related("payments")
    return broker_scoped_get(orders, pk=pk, broker=broker,
                             not_found=NotFound("Order not found.", code="ORDER_NOT_FOUND"))


def order_breakdown(order: Order) -> dict:
    """Where the customer's money goes, in cents with `_usd` strings beside each figure.

    customer paid = supplier cost + platform net + broker total (to the cent, for a paid order).
    """
    broker_total = order.broker_revenue_share + order.broker_markup
    out: dict = {}
    for name, cents in (
        ("subtotal_base", order.subtotal_base),
        ("supplier_cost", order.supplier_cost),
        ("platform_gross", order.platform_gross),
        ("platform_net", order.platform_net_revenue),
        ("broker_revenue_share", order.broker_revenue_share),
        ("broker_markup", order.broker_markup),
        ("broker_total", broker_total),
        ("total_charged", order.total_charged),
        ("customer_paid", order.amount_paid),
        ("refunded", order.amount_refunded),
    ):
        out.update(_money(name, cents))
    out["platform_commission_percent"] = str(order.platform_commission_percent)
    out["revenue_share_percent"] = str(order.revenue_share_percent)
    return out


def _item(item: OrderItem) -> dict:
    out = {
        "id": str(item.pk),
        "card_id": item.card_id,
        "bank_name": item.bank_name,
        "date_opened": item.date_opened,
        "reporting_period": item.reporting_period,
        "quantity": item.quantity,
    }
    for name in ("credit_limit", "base_price", "platform_gross", "revenue_share", "markup", "customer_price",
                 "total_base", "total_platform_gross", "total_revenue_share", "total_markup",
                 "total_customer_price"):
        out.update(_money(name, getattr(item, name)))
    return out


def _broker_ref(broker: Broker | None) -> dict | None:
    if broker is None:
        return None
    return {"id": str(broker.pk), "name": broker.name, "business_name": broker.business_name}


def order_detail(*, order: Order, internal: bool = True) -> dict:
    """Everything about one order: statuses, frozen money, items, commission breakdown.

    `internal=False` (a broker looking at its own order) leaves out the admin-only notes
    (review and cancellation reasons, fulfillment errors).
    """
    payments = sorted(order.payments.all(), key=lambda p: p.created_at)
    paying = order.paying_payment
    supplier = order.supplier
    out = {
        "id": str(order.pk),
        "order_number": order.order_number,
        "broker": _broker_ref(order.broker),
        "customer_email": order.customer_email,
        "customer_name": order.customer_name,
        "customer_phone": order.customer_phone,
        "status": order.status,
        "payment_status": order.payment_status,
        "fulfillment_status": order.fulfillment_status,
        "dispute_status": order.dispute_status,
        "currency": order.currency,
        # Served from the order's Payment and SupplierOrder rows (once columns of the order).
        "payment_method": paying.method if paying is not None and paying.role == "PAYING" else "",
        "payment_reference": paying.reference if paying is not None and paying.role == "PAYING" else "",
        "stripe_session_id": _session_id(payments),
        "checkout_expires_at": _iso(order.checkout_expires_at),
        "supplier_order_id": supplier.supplier_order_id if supplier is not None else None,
        "supplier_order_status": supplier.supplier_status if supplier is not None else "",
        "created_at": _iso(order.created_at),
        "paid_at": _iso(order.paid_at),
        "completed_at": _iso(order.completed_at),
        "cancelled_at": _iso(order.cancelled_at),
        "refunded_at": _iso(order.refunded_at),
    }
    for name in ("subtotal_base", "supplier_cost", "platform_gross", "platform_net_revenue", "broker_revenue_share",
                 "broker_markup", "total_charged", "amount_paid", "amount_refunded"):
        out.update(_money(name, getattr(order, name)))
    out.update(_money("broker_earnings", order.broker_revenue_share + order.broker_markup))
    out["items"] = [_item(item) for item in order.items.all()]
    out["commission_breakdown"] = order_breakdown(order)
    out["payments"] = [_payment(payment) for payment in payments]
    if internal:
        out["review_reason"] = order.review_reason
        out["cancellation_reason"] = order.cancellation_reason
        out["fulfillment_attempts"] = supplier.attempts if supplier is not None else 0
        out["fulfillment_last_error"] = supplier.last_error if supplier is not None else ""
    return out


def _session_id(payments) -> str | None:
    """The order's own Checkout Session (its first Stripe payment attempt with one)."""
    return next((p.stripe_session_id for p in payments if p.stripe_session_id), None)


def _payment(payment) -> dict:
    return {
        "id": str(payment.pk),
        "method": payment.method,
        "role": payment.role,
        "status": payment.status,
        **_money("amount", payment.amount),
        **_money("amount_refunded", payment.amount_refunded),
        "currency": payment.currency,
        "dispute_status": payment.dispute_status,
        "reference": payment.reference,
        "stripe_payment_intent": payment.stripe_payment_intent,
        "stripe_payment_link_url": payment.stripe_payment_link_url,
        "paid_at": _iso(payment.paid_at),
    }


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


def order_summary_for_list(queryset: QuerySet[Order]) -> dict:
    """The list's summary: computed on every request while the planner expects at most
    SUMMARY_LIVE_ROWS matching orders (an index-only scan: a broker's, a status's, a month's orders);
    over more (all orders, a year) one aggregate costs a second of CPU, so it is computed at most
    once per SUMMARY_CACHE_SECONDS for the same filters and served with `as_of`, the time it was
    computed. On SQLite (development, tests) always computed."""
    estimate = estimated_count(queryset)
    if estimate is None or estimate <= SUMMARY_LIVE_ROWS:
        return {**order_summary(queryset), "as_of": None}
    key = "orders:summary:" + hashlib.sha256(str(queryset.query).encode()).hexdigest()
    summary = cache.get(key)
    if summary is None:
        summary = {**order_summary(queryset), "as_of": timezone.now().isoformat()}
        cache.set(key, summary, SUMMARY_CACHE_SECONDS)
    return summary


def order_summary(queryset: QuerySet[Order]) -> dict:
    """One aggregate query over the paid orders of `queryset` (see the module docstring)."""
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


def order_latest(*, broker: Broker, limit: int = 5) -> list[dict]:
    """A broker's newest orders as list rows, without a summary (the portal dashboard)."""
    rows, _ = _page_rows(Order.objects.filter(broker=broker).order_by("-created_at", "-pk"), page=1, limit=limit,
                         cursor=None)
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
    summary = order_summary_for_list(queryset)
    total = summary["orders_count"]
    rows, more = _page_rows(queryset.order_by("-created_at", "-pk"), page=page, limit=limit, cursor=cursor)
    with_broker = broker is None
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
