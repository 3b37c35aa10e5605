"""Request and response shapes of the payout endpoints. Money: integer cents plus a `_usd` string."""

import uuid
from typing import Any

from ninja import Field, Schema
from pydantic import StrictInt


class PayoutCreateIn(Schema):
    year: StrictInt = Field(..., ge=2000, le=2100)
    month: StrictInt = Field(..., ge=1, le=12)
    broker_id: uuid.UUID | None = None


class PayoutProcessIn(Schema):
    transaction_id: str = Field(..., min_length=1, max_length=200)
    notes: str = Field("", max_length=2000)


class PayoutEndIn(Schema):
    reason: str = Field("", max_length=2000)


class PayoutOut(Schema):
    id: str
    broker_id: str
    broker_name: str
    period: str
    period_start: str
    period_end: str
    status: str
    commission_count: int
    adjustment_count: int
    payment_method: str
    transaction_id: str
    notes: str
    processed_at: str | None
    created_at: str
    total_revenue_share: int
    total_revenue_share_usd: str
    total_markup: int
    total_markup_usd: str
    total_adjustments: int
    total_adjustments_usd: str
    total_amount: int
    total_amount_usd: str


class RunLineOut(Schema):
    broker_id: str
    broker_name: str
    outcome: str
    payout_id: str | None
    commission_count: int
    adjustment_count: int
    total_revenue_share: int
    total_revenue_share_usd: str
    total_markup: int
    total_markup_usd: str
    total_adjustments: int
    total_adjustments_usd: str
    total_amount: int
    total_amount_usd: str


class PayoutRunOut(Schema):
    period: str
    payouts: list[PayoutOut]
    count: int
    brokers: list[RunLineOut]


class PaginationOut(Schema):
    page: int
    limit: int
    total: int
    pages: int


class BrokerPayoutSummaryOut(Schema):
    total_payouts: int
    total_paid: int
    total_paid_usd: str
    revenue_share_paid: int
    revenue_share_paid_usd: str
    markup_paid: int
    markup_paid_usd: str
    adjustments_applied: int
    adjustments_applied_usd: str


class BrokerPayoutsOut(Schema):
    payouts: list[PayoutOut]
    pagination: PaginationOut
    summary: BrokerPayoutSummaryOut


class BrokerPayoutsQuery(Schema):
    page: int = Field(1, ge=1, le=100_000)
    limit: int = Field(20, ge=1, le=100)
    status: str | None = Field(None, max_length=16)


class EarningsOut(Schema):
    pending: int
    pending_usd: str
    held: int
    held_usd: str
    in_payout: int
    in_payout_usd: str
    paid: int
    paid_usd: str
    clawed_back: int
    clawed_back_usd: str
    open_adjustments: int
    open_adjustments_usd: str


class ReportQuery(Schema):
    format: str = Field("json", pattern="^(json|csv)$")


class ErrorOut(Schema):
    """The error body: a message, an UPPER_SNAKE code and optional details."""

    error: str
    code: str
    details: Any = None


class PayoutSendOut(Schema):
    outcome: str  # sent | already_sent | declined
    message: str
    payout: PayoutOut


class TransferReversalIn(Schema):
    broker_id: uuid.UUID
    amount: StrictInt = Field(..., gt=0)


class TransferReversalOut(Schema):
    id: str
    broker_id: str
    transfer_id: str
    amount: int
    status: str
    stripe_reversal_id: str
    adjustment_id: str | None
