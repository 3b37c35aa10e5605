"""Request and response shapes of the order endpoints. Money: integer cents plus a `_usd` string."""

from ninja import Field, Schema
from pydantic import StrictInt

from tradeline.catalog.pricing import MAX_QUANTITY

# Generous bounds on the raw request; the cart rules themselves (1..20 distinct lines after
# merging duplicates, 1..10 per line) are enforced by the order service with precise codes.
MAX_ITEM_ENTRIES = 200


class CheckoutItemIn(Schema):
    card_id: str = Field(..., min_length=1, max_length=64)
    quantity: StrictInt = Field(..., ge=1, le=MAX_QUANTITY)


class CheckoutIn(Schema):
    customer_email: str = Field(..., max_length=254)
    customer_name: str = Field("", max_length=200)
    items: list[CheckoutItemIn] = Field(..., max_length=MAX_ITEM_ENTRIES)
    success_url: str | None = Field(None, max_length=2000)
    cancel_url: str | None = Field(None, max_length=2000)


class CheckoutOut(Schema):
    session_id: str
    checkout_url: str
    order_id: str
    order_number: str
    total_charged: int
    total_charged_usd: str


class AdminOrderIn(CheckoutIn):
    """A direct sale (no broker). `create_checkout: false` leaves a PENDING order to be paid manually."""

    create_checkout: bool = True


class AdminOrderOut(Schema):
    order: dict
    session_id: str | None = None
    checkout_url: str | None = None


class OrderCancelIn(Schema):
    reason: str = Field("", max_length=500)


class OrderListQuery(Schema):
    status: str | None = None
    # ISO 8601: a date (a whole UTC day) or a date-time (naive = UTC).
    start_date: str | None = Field(None, max_length=40)
    end_date: str | None = Field(None, max_length=40)
    page: int = Field(1, ge=1, le=1_000_000)
    limit: int = Field(20, ge=1, le=100)


class AdminOrderListQuery(OrderListQuery):
    # A broker's UUID, or "direct" for sales without a broker.
    broker_id: str | None = None


class PaginationOut(Schema):
    page: int
    limit: int
    total: int
    pages: int


class OrderListOut(Schema):
    orders: list[dict]
    pagination: PaginationOut
    summary: dict
