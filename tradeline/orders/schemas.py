"""Request and response shapes of the order endpoints. Money: integer cents plus a `_usd` string."""

from typing import Any

from ninja import Field, Schema
from pydantic import StrictBool, StrictInt

from tradeline.catalog.pricing import MAX_QUANTITY
from tradeline.core.schemas import TextInSchema

# Generous bounds on the raw request; the cart rules themselves (1..20 distinct lines after
# merging duplicates, 1..10 per line) are enforced by the order service with precise codes.
MAX_ITEM_ENTRIES = 200


class CheckoutItemIn(TextInSchema):
    card_id: str = Field(..., min_length=1, max_length=64)
    quantity: StrictInt = Field(..., ge=1, le=MAX_QUANTITY)


class CheckoutIn(TextInSchema):
    customer_email: str = Field(..., max_length=254)
    customer_name: str = Field("", max_length=200)
    items: list[CheckoutItemIn] = Field(..., max_length=MAX_ITEM_ENTRIES)
    success_url: str | None = Field(None, max_length=2000)
    cancel_url: str | None = Field(None, max_length=2000)
    # The Tradeline User Agreement (GET /api/public/agreement): its current version, accepted.
    agreement_version: StrictInt | None = Field(None, ge=1, le=1_000_000)
    agreement_accepted: StrictBool | None = None


class CheckoutOut(Schema):
    session_id: str
    checkout_url: str
    order_id: str
    order_number: str
    total_charged: int
    total_charged_usd: str
    status_url: str  # the customer's signed order-status page


class AdminOrderIn(CheckoutIn):
    """A direct sale (no broker). `create_checkout: false` leaves a PENDING order to be paid manually."""

    create_checkout: bool = True


class OrderCancelIn(TextInSchema):
    reason: str = Field("", max_length=500)


class OrderListQuery(Schema):
    status: str | None = None
    # ISO 8601: a date (a whole UTC day) or a date-time (naive = UTC).
    start_date: str | None = Field(None, max_length=40)
    end_date: str | None = Field(None, max_length=40)
    page: int = Field(1, ge=1, le=1_000_000)
    limit: int = Field(20, ge=1, le=100)
    # The `next` of the previous page: keyset pagination, as fast deep in the list as on page 1.
    cursor: str | None = Field(None, max_length=200)


class AdminOrderListQuery(OrderListQuery):
    # A broker's UUID, or "direct" for sales without a broker.
    broker_id: str | None = None


class PaginationOut(Schema):
    page: int
    limit: int
    total: int
    pages: int


# --- responses -----------------------------------------------------------------------------------

class ErrorOut(Schema):
    error: str
    code: str
    details: Any = None


class BrokerRefOut(Schema):
    id: str
    name: str
    business_name: str


class OrderItemOut(Schema):
    """One line as its broker sees it (no platform commission)."""

    id: str
    card_id: str
    bank_name: str
    date_opened: str
    reporting_period: str
    quantity: int
    credit_limit: int
    credit_limit_usd: str
    base_price: int
    base_price_usd: str
    revenue_share: int
    revenue_share_usd: str
    markup: int
    markup_usd: str
    customer_price: int
    customer_price_usd: str
    total_base: int
    total_base_usd: str
    total_revenue_share: int
    total_revenue_share_usd: str
    total_markup: int
    total_markup_usd: str
    total_customer_price: int
    total_customer_price_usd: str


class AdminOrderItemOut(OrderItemOut):
    platform_gross: int
    platform_gross_usd: str
    total_platform_gross: int
    total_platform_gross_usd: str


class BrokerBreakdownOut(Schema):
    """The broker's part of the customer's money (cents, with `_usd` beside), as frozen at sale."""

    subtotal_base: int
    subtotal_base_usd: str
    broker_revenue_share: int
    broker_revenue_share_usd: str
    broker_markup: int
    broker_markup_usd: str
    broker_total: int
    broker_total_usd: str
    total_charged: int
    total_charged_usd: str
    customer_paid: int
    customer_paid_usd: str
    refunded: int
    refunded_usd: str
    revenue_share_percent: str


class BreakdownOut(BrokerBreakdownOut):
    """customer paid = supplier cost + platform net + broker total (cents, with `_usd` beside)."""

    supplier_cost: int
    supplier_cost_usd: str
    platform_gross: int
    platform_gross_usd: str
    platform_net: int
    platform_net_usd: str
    platform_commission_percent: str


class PaymentOut(Schema):
    """One attempt to take money for the order (payments.Payment)."""

    id: str
    method: str
    role: str
    status: str
    amount: int
    amount_usd: str
    amount_refunded: int
    amount_refunded_usd: str
    currency: str
    dispute_status: str
    reference: str
    stripe_payment_intent: str | None
    stripe_payment_link_url: str
    paid_at: str | None


class OrderDetailOut(Schema):
    """One order as its broker sees it: customer price, its share, markup and earnings; never our
    margins. broker_revenue_share / broker_markup are the order's terms at sale; earned_* and
    broker_earnings come from the commission ledger (0 unless paid, net of refunds and disputes)."""

    id: str
    order_number: str
    broker: BrokerRefOut | None
    customer_email: str
    customer_name: str
    customer_phone: str
    status: str
    payment_status: str
    fulfillment_status: str
    dispute_status: str
    currency: str
    payment_method: str
    payment_reference: str
    stripe_session_id: str | None
    checkout_expires_at: str | None
    supplier_order_id: str | None
    supplier_order_status: str
    created_at: str
    paid_at: str | None
    completed_at: str | None
    cancelled_at: str | None
    refunded_at: str | None
    subtotal_base: int
    subtotal_base_usd: str
    broker_revenue_share: int
    broker_revenue_share_usd: str
    broker_markup: int
    broker_markup_usd: str
    total_charged: int
    total_charged_usd: str
    amount_paid: int
    amount_paid_usd: str
    amount_refunded: int
    amount_refunded_usd: str
    earned_revenue_share: int
    earned_revenue_share_usd: str
    earned_markup: int
    earned_markup_usd: str
    clawed_back: int
    clawed_back_usd: str
    broker_earnings: int
    broker_earnings_usd: str
    items: list[OrderItemOut]
    commission_breakdown: BrokerBreakdownOut
    payments: list[PaymentOut] = []


class AdminOrderDetailOut(OrderDetailOut):
    """One order as an admin sees it: with our margins and the internal notes."""

    supplier_cost: int
    supplier_cost_usd: str
    platform_gross: int
    platform_gross_usd: str
    platform_net_revenue: int
    platform_net_revenue_usd: str
    items: list[AdminOrderItemOut]
    commission_breakdown: BreakdownOut
    review_reason: str
    cancellation_reason: str
    fulfillment_attempts: int
    fulfillment_last_error: str


class OrderRowOut(Schema):
    """One order in a list. In a broker's list, broker_revenue_share, broker_markup and
    broker_earnings are what it earns per the commission ledger (0 unless paid, net of clawbacks)."""

    id: str
    order_number: str
    customer_email: str
    customer_name: str
    status: str
    payment_status: str
    fulfillment_status: str
    items_count: int
    created_at: str
    paid_at: str | None
    total_charged: int
    total_charged_usd: str
    broker_revenue_share: int
    broker_revenue_share_usd: str
    broker_markup: int
    broker_markup_usd: str
    amount_refunded: int
    amount_refunded_usd: str
    broker_earnings: int
    broker_earnings_usd: str


class AdminOrderRowOut(OrderRowOut):
    platform_net_revenue: int
    platform_net_revenue_usd: str
    broker: BrokerRefOut | None


class SummaryOut(Schema):
    """Over the paid orders (PROCESSING, COMPLETED, REFUNDED) among those matching the filters. In a
    broker's list, revenue_share, markup and commission come from the commission ledger."""

    orders_count: int
    paid_orders_count: int
    counted_statuses: list[str]
    # null: computed for this response; else when it was computed (over 100,000 matching orders the
    # summary is recomputed at most once a minute)
    as_of: str | None = None
    revenue: int
    revenue_usd: str
    refunded: int
    refunded_usd: str
    net_revenue: int
    net_revenue_usd: str
    revenue_share: int
    revenue_share_usd: str
    markup: int
    markup_usd: str
    commission: int
    commission_usd: str


class AdminSummaryOut(SummaryOut):
    platform_net_revenue: int
    platform_net_revenue_usd: str


class BrokerOrderListOut(Schema):
    # the cursor of the page after this one (pass it as `cursor`); null on the last page
    next: str | None = None
    orders: list[OrderRowOut]
    pagination: PaginationOut
    summary: SummaryOut


class AdminOrderListOut(Schema):
    # the cursor of the page after this one (pass it as `cursor`); null on the last page
    next: str | None = None
    orders: list[AdminOrderRowOut]
    pagination: PaginationOut
    summary: AdminSummaryOut


# An order's detail after an admin action on it (manual payment, retry of fulfillment).
class OrderOut(Schema):
    order: dict


class AdminOrderOut(Schema):
    order: AdminOrderDetailOut
    session_id: str | None = None
    checkout_url: str | None = None
