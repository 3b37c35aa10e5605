"""Write services of the payments app: checkout, payment links and manual payments (checkout.py),
money in (paid.py), refunds (refunds.py), disputes (disputes.py); shared locking and summaries
(common.py)."""

from tradeline.payments.services.checkout import (
    checkout_cancel,
    checkout_create,
    checkout_session_store,
    manual_payment_record,
    order_expire_stale_checkouts,
    payment_link_create,
)
from tradeline.payments.services.disputes import (
    DISPUTE_CLOSING_STATUSES,
    order_dispute_closed,
    order_dispute_opened,
)
from tradeline.payments.services.paid import (
    PaidOutcome,
    order_async_payment_failed,
    order_checkout_expired,
    order_payment_attempt_failed,
    order_payment_record,
    payment_charge_store,
)
from tradeline.payments.services.common import order_flag_for_review
from tradeline.payments.services.refunds import (
    RefundOutcome,
    deferred_refunds_apply,
    refund_create,
    refund_total_apply,
)

__all__ = [
    "DISPUTE_CLOSING_STATUSES",
    "PaidOutcome",
    "RefundOutcome",
    "checkout_cancel",
    "checkout_create",
    "checkout_session_store",
    "deferred_refunds_apply",
    "manual_payment_record",
    "order_async_payment_failed",
    "order_checkout_expired",
    "order_dispute_closed",
    "order_dispute_opened",
    "order_expire_stale_checkouts",
    "order_flag_for_review",
    "order_payment_attempt_failed",
    "order_payment_record",
    "payment_charge_store",
    "payment_link_create",
    "refund_create",
    "refund_total_apply",
]
