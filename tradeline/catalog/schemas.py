"""Public catalog shapes (documentation of GET /api/public/pricing; the body itself is cached JSON)."""

from ninja import Schema


class PricingBrokerOut(Schema):
    id: str
    name: str
    business_name: str


class PricingTradelineOut(Schema):
    card_id: str
    bank_name: str
    credit_limit: int
    credit_limit_usd: str
    date_opened: str
    purchase_deadline: str
    reporting_period: str
    stock: int
    image: str
    customer_price: int
    customer_price_usd: str


class PricingOut(Schema):
    broker: PricingBrokerOut
    stale: bool
    updated_at: str
    tradelines: list[PricingTradelineOut]


class ErrorOut(Schema):
    error: str
    code: str
    details: object | None = None
