"""Write services of the payments app: money in (paid.py), refunds (refunds.py), disputes (disputes.py)."""

from tradeline.payments.services.common import order_flag_for_review
from tradeline.payments.services.disputes import order_dispute_closed, order_dispute_opened
from tradeline.payments.services.paid import (
    PaidOutcome,
    manual_payment_record,
    order_async_payment_failed,
    order_checkout_expired,
    order_mark_paid,
    order_payment_attempt_failed,
    order_payment_record,
    payment_link_create,
)
from tradeline.payments.services.refunds import (
    RefundOutcome,
    deferred_refunds_apply,
    refund_create,
    refund_total_apply,
)

__all__ = [
    "PaidOutcome",
    "RefundOutcome",
    "deferred_refunds_apply",
    "manual_payment_record",
    "order_async_payment_failed",
    "order_checkout_expired",
    "order_dispute_closed",
    "order_dispute_opened",
    "order_flag_for_review",
    "order_mark_paid",
    "order_payment_attempt_failed",
    "order_payment_record",
    "payment_link_create",
    "refund_create",
    "refund_total_apply",
]
