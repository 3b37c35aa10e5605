"""Reads of the widget app."""

from tradeline.brokers.auth import broker_for_key
from tradeline.brokers.models import KeyKind
from tradeline.orders.models import Order
from tradeline.widget.models import DemoPage


def demo_page_current() -> DemoPage | None:
    return DemoPage.objects.select_related("broker").first()


def demo_page_key_live(page: DemoPage) -> bool:
    """Whether the page's publishable key still works for its broker (not revoked by a rotation)."""
    found = broker_for_key(page.publishable_key)
    return found is not None and found[0].pk == page.broker_id and found[1] == KeyKind.PUBLISHABLE


def demo_order_for_return(*, session_id: str = "", order_number: str = "") -> Order | None:
    """The order a customer returns from Stripe for, by Checkout Session id or by order number
    (the demo success page shows only its number and status)."""
    fields = ("order_number", "status", "fulfillment_status", "total_charged")
    if session_id and len(session_id) <= 255 and "{" not in session_id:
        return Order.objects.filter(stripe_session_id=session_id).only(*fields).first()
    if order_number and len(order_number) <= 32:
        return Order.objects.filter(order_number=order_number).only(*fields).first()
    return None
