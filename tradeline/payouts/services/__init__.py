"""Write services of the payouts app: commissions (commissions.py) and payouts (payouts.py)."""

from tradeline.payouts.services.commissions import (
    commission_apply_refund,
    commission_create_for_order,
    commission_dispute_closed,
    commission_hold_for_dispute,
)
from tradeline.payouts.services.payouts import (
    PayoutPreview,
    month_period,
    payout_cancel,
    payout_create_monthly,
    payout_fail,
    payout_mark_paid,
    payout_preview,
    payout_run_month,
)

__all__ = [
    "PayoutPreview",
    "commission_apply_refund",
    "commission_create_for_order",
    "commission_dispute_closed",
    "commission_hold_for_dispute",
    "month_period",
    "payout_cancel",
    "payout_create_monthly",
    "payout_fail",
    "payout_mark_paid",
    "payout_preview",
    "payout_run_month",
]
