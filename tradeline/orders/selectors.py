"""Order reads: one order with its commission breakdown (lists, search and their summary are in
orders.list_selectors).

What a broker sees (`order_list(broker=...)`, `order_detail(internal=False)`) is different in two ways:
- its earnings come from the commission ledger (`earned_*` below): 0 for an order never paid, net
  of every clawback after refunds and lost disputes; the summary's share, markup and commission too;
- it never includes our margins: no supplier cost, platform commission or platform net revenue.
"""

import uuid

from django.db.models import F, OuterRef, QuerySet, Subquery, Sum, Value
from django.db.models.functions import Coalesce

from tradeline.brokers.models import Broker
from tradeline.brokers.selectors import broker_scoped_get
from tradeline.core.errors import NotFound
from tradeline.core.money import cents_to_usd
from tradeline.orders.models import Order, OrderItem, OrderStatus

# The paid states an order list summary counts (orders.list_selectors.order_summary).
PAID_STATUSES = (OrderStatus.PROCESSING, OrderStatus.COMPLETED, OrderStatus.REFUNDED)


def _money(name: str, cents: int) -> dict:
    return {name: cents, f"{name}_usd": cents_to_usd(cents)}


def _iso(value) -> str | None:
    return value.isoformat() if value else None


# --- the broker's earnings, from the commission ledger ---------------------------------------------
# An order's earnings are what its commission record still holds (refunds before a payout reduce it)
# plus its adjustments (clawbacks booked after a payout, negative). An order never paid has no
# commission: 0. Read through the reverse relations the payouts app puts on Order ("commission",
# "commission__adjustments"), so this app does not import payouts.

def _adjusted(field: str) -> Subquery:
    return Subquery(Order.objects.filter(pk=OuterRef("pk")).values("pk")
                    .annotate(total=Sum(f"commission__adjustments__{field}")).values("total")[:1])


def earned_annotations() -> dict:
    """Per-order expressions: earned_revenue_share, earned_markup (cents, from the ledger)."""
    zero = Value(0)
    return {
        "earned_revenue_share": Coalesce(F("commission__revenue_share_amount"), zero)
        + Coalesce(_adjusted("revenue_share_amount"), zero),
        "earned_markup": Coalesce(F("commission__markup_amount"), zero) + Coalesce(_adjusted("markup_amount"), zero),
    }


def earned_totals(queryset: QuerySet[Order], *, broker_id=None) -> dict:
    """Σ of the ledger's share and markup over the orders (two aggregate queries: the adjustments'
    join would otherwise count each commission once per adjustment).

    `broker_id`: every order of `queryset` is this broker's. The ledger rows are then also chosen by
    their own broker column, an index range, instead of joining the orders to the whole ledger (one
    broker's 50,000 orders in a ledger of a million rows: 45 ms instead of 350 ms). The sums are the
    same: a commission and its adjustments always belong to the order's broker."""
    held_rows, adjusted_rows = queryset, queryset
    if broker_id is not None:
        held_rows = queryset.filter(commission__broker_id=broker_id)
        adjusted_rows = queryset.filter(commission__adjustments__broker_id=broker_id)
    held = held_rows.aggregate(share=Sum("commission__revenue_share_amount", default=0),
                               markup=Sum("commission__markup_amount", default=0))
    adjusted = adjusted_rows.aggregate(share=Sum("commission__adjustments__revenue_share_amount", default=0),
                                       markup=Sum("commission__adjustments__markup_amount", default=0))
    share, markup = int(held["share"]) + int(adjusted["share"]), int(held["markup"]) + int(adjusted["markup"])
    return {"revenue_share": share, "markup": markup, "total": share + markup}


def order_earnings(order: Order) -> dict:
    """One order's earnings from the ledger: revenue_share, markup, total, and clawed_back (what the
    order's terms promised at sale minus the total; for a paid order, what refunds and disputes took)."""
    earned = earned_totals(Order.objects.filter(pk=order.pk))
    promised = order.broker_revenue_share + order.broker_markup
    has_commission = Order.objects.filter(pk=order.pk, commission__isnull=False).exists()
    return {**earned, "clawed_back": promised - earned["total"] if has_commission else 0}


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


# Figures of our own margins: in the admin's views only, never in a broker's.
INTERNAL_ORDER_MONEY = ("supplier_cost", "platform_gross", "platform_net_revenue")
INTERNAL_ITEM_MONEY = ("platform_gross", "total_platform_gross")
INTERNAL_BREAKDOWN = ("supplier_cost", "platform_gross", "platform_net", "platform_commission_percent")


def order_breakdown(order: Order, *, internal: bool = True) -> dict:
    """Where the customer's money goes, in cents with `_usd` strings beside each figure.

    customer paid = supplier cost + platform net + broker total (to the cent, for a paid order).
    `internal=False` (a broker's view): without supplier cost, platform commission and net.
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
        if internal or name not in INTERNAL_BREAKDOWN:
            out.update(_money(name, cents))
    if internal:
        out["platform_commission_percent"] = str(order.platform_commission_percent)
    out["revenue_share_percent"] = str(order.revenue_share_percent)
    return out


def _item(item: OrderItem, *, internal: bool = True) -> dict:
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
        if internal or name not in INTERNAL_ITEM_MONEY:
            out.update(_money(name, getattr(item, name)))
    return out


def _broker_ref(broker: Broker | None) -> dict | None:
    if broker is None:
        return None
    return {"id": str(broker.pk), "name": broker.name, "business_name": broker.business_name}


def order_detail(*, order: Order, internal: bool = True) -> dict:
    """Everything about one order: statuses, frozen money, items, commission breakdown.

    `internal=False` (a broker looking at its own order) leaves out the admin-only notes
    (review and cancellation reasons, fulfillment errors) and our margins (supplier cost, platform
    commission and net revenue). Earnings (`broker_earnings`, `earned_*`, `clawed_back`) come from
    the commission ledger in both views.
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
        if internal or name not in INTERNAL_ORDER_MONEY:
            out.update(_money(name, getattr(order, name)))
    earnings = order_earnings(order)
    out.update(_money("earned_revenue_share", earnings["revenue_share"]))
    out.update(_money("earned_markup", earnings["markup"]))
    out.update(_money("clawed_back", earnings["clawed_back"]))
    out.update(_money("broker_earnings", earnings["total"]))
    out["items"] = [_item(item, internal=internal) for item in order.items.all()]
    out["commission_breakdown"] = order_breakdown(order, internal=internal)
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
