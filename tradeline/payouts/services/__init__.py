"""Write services of the payouts app: commissions (commissions.py), payout runs (payouts.py), payouts
paid, failed or cancelled (payout_status.py), Stripe Connect accounts (connect.py), transfers and
reversals (transfers.py), tax details (tax.py)."""

from tradeline.payouts.services.commissions import (
    commission_apply_refund,
    commission_create_for_order,
    commission_dispute_closed,
    commission_hold_for_dispute,
)
from tradeline.payouts.services.payout_status import payout_cancel, payout_fail, payout_mark_paid
from tradeline.payouts.services.payouts import (
    PayoutPreview,
    month_period,
    payout_create_monthly,
    payout_preview,
    payout_run_month,
)
from tradeline.payouts.services.transfers import SendResult, payout_send, payouts_send_all, transfer_reverse

__all__ = [
    "SendResult",
    "payout_send",
    "payouts_send_all",
    "transfer_reverse",
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
