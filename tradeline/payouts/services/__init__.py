"""Write services of the payouts app: commissions (commissions.py) and payouts (payouts.py)."""

from tradeline.payouts.services.commissions import (
    commission_apply_refund,
    commission_create_for_order,
    commission_dispute_closed,
    commission_hold_for_dispute,
)

__all__ = [
    "commission_apply_refund",
    "commission_create_for_order",
    "commission_dispute_closed",
    "commission_hold_for_dispute",
]
