"""What a customer returning from Stripe Checkout is told, for each state of the order.

One place for the texts of the demo shop's success page and of our own return page. A page for an
order that has not settled yet (waiting for the payment, or paid and being placed at the supplier)
refreshes itself every REFRESH_SECONDS until it has.
"""

from dataclasses import dataclass

from tradeline.orders.models import FulfillmentStatus, Order, OrderStatus

REFRESH_SECONDS = 3


@dataclass(frozen=True)
class ReturnStatus:
    state: str  # a stable name for the page and the tests: waiting, placing, placed, failed, ...
    heading: str
    message: str
    tone: str  # ok, info, bad
    refresh: bool = False


def return_status(order: Order | None, *, link_named_an_order: bool = True) -> ReturnStatus:
    if order is None:
        if not link_named_an_order:
            return ReturnStatus("unknown", "We could not tell which order this is",
                                "This link does not say which order it belongs to. If you paid, the confirmation "
                                "email names your order; you can also go back to the shop.", "info")
        return ReturnStatus("unknown", "We could not find this order",
                            "No order matches this link. If you paid, the confirmation email names your order.",
                            "info")
    status = order.status
    if status == OrderStatus.PENDING:
        return ReturnStatus("waiting", "Waiting for your payment",
                            "Your payment has not been confirmed yet. A card is confirmed within seconds; a bank "
                            "debit can take a few business days. Nothing is placed until the money arrives. "
                            "This page updates itself.", "info", refresh=True)
    if status == OrderStatus.PROCESSING and order.fulfillment_status == FulfillmentStatus.FAILED:
        return ReturnStatus("delayed", "Thank you for your order!",
                            "Your payment was received. Placing the order is taking longer than usual: our team "
                            "has been told and will email you.", "info")
    if status == OrderStatus.PROCESSING:
        return ReturnStatus("placing", "Thank you for your order!",
                            "Your payment was received. We are placing your order now; this page updates itself.",
                            "ok", refresh=True)
    if status == OrderStatus.COMPLETED:
        return ReturnStatus("placed", "Thank you for your order!",
                            "Your payment was received and your order has been placed. A confirmation is on its "
                            "way to your email.", "ok")
    if status == OrderStatus.ON_HOLD:
        return ReturnStatus("review", "Thank you for your order!",
                            "Your payment was received and is being reviewed before the order is placed. We will "
                            "email you.", "info")
    if status == OrderStatus.FAILED:
        return ReturnStatus("failed", "Your payment failed",
                            "Your bank did not complete the payment, so nothing was charged and the order will "
                            "not be placed. You can go back to the shop and try again.", "bad")
    if status == OrderStatus.CANCELLED:
        return ReturnStatus("cancelled", "This order was cancelled",
                            "No payment was taken for it. You can go back to the shop and order again.", "bad")
    if status == OrderStatus.REFUNDED:
        return ReturnStatus("refunded", "This order was refunded",
                            "The full amount was refunded to your payment method.", "info")
    return ReturnStatus("unknown", "Your order", "", "info")


def names_an_order(session_id: str, order_number: str) -> bool:
    """False when the return link carries nothing usable (e.g. an unfilled {CHECKOUT_SESSION_ID})."""
    return bool(order_number) or bool(session_id and "{" not in session_id)
