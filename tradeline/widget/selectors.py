"""Reads of the widget app."""

from tradeline.orders.models import Order
from tradeline.widget.models import DemoPage


def demo_page_current() -> DemoPage | None:
    return DemoPage.objects.select_related("broker").first()


def demo_order_for_session(*, session_id: str) -> Order | None:
    """The order a Checkout Session paid for (the demo success page shows its number and status)."""
    if not session_id or len(session_id) > 255 or "{" in session_id:
        return None
    return Order.objects.filter(stripe_session_id=session_id).only("order_number", "status", "total_charged").first()
