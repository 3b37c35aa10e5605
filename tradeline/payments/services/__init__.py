"""Write services of the payments app: checkout and manual payments (checkout.py), money in
(paid.py), refunds (refunds.py), disputes (disputes.py); shared locking and summaries (records.py)."""

from tradeline.payments.services.checkout import checkout_session_store, manual_payment_record, payment_link_create
from tradeline.payments.services.disputes import order_dispute_closed, order_dispute_opened
from tradeline.payments.services.paid import (
    PaidOutcome,
    order_async_payment_failed,
    order_checkout_expired,
    order_payment_attempt_failed,
    order_payment_record,
    payment_charge_store,
)
from tradeline.payments.services.records import order_flag_for_review
from tradeline.payments.services.refunds import (
    RefundOutcome,
    deferred_refunds_apply,
    refund_create,
    refund_total_apply,
)

__all__ = [
    "PaidOutcome",
    "RefundOutcome",
    "checkout_session_store",
    "deferred_refunds_apply",
    "manual_payment_record",
    "order_async_payment_failed",
    "order_checkout_expired",
    "order_dispute_closed",
    "order_dispute_opened",
    "order_flag_for_review",
    "order_payment_attempt_failed",
    "order_payment_record",
    "payment_charge_store",
    "payment_link_create",
    "refund_create",
    "refund_total_apply",
]
