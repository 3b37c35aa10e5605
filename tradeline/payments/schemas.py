"""Request and response shapes of the payment endpoints. Money: integer cents plus a `_usd` string."""

from ninja import Field, Schema
from pydantic import StrictInt


class WebhookAckOut(Schema):
    received: bool
    status: str  # processed | ignored | needs_review | deferred | duplicate
    event_id: str
    type: str


class ManualPaymentIn(Schema):
    payment_method: str = Field(..., description="CASH, WIRE or CHECK", max_length=16)
    reference: str = Field(..., description="Receipt, wire or check number", max_length=500)


class RefundIn(Schema):
    amount: StrictInt | None = Field(None, description="Cents to refund; default: everything not refunded yet")
    reason: str = Field("", max_length=500)


class PaymentLinkOut(Schema):
    order: dict
    payment_link_id: str
    payment_link_url: str


class RefundRowOut(Schema):
    id: str
    amount: int
    amount_usd: str
    status: str
    stripe_refund_id: str | None
    reason: str
    created_at: str


class RefundOut(Schema):
    refund: RefundRowOut
    order: dict
