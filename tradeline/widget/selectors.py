"""Reads of the widget app."""

from tradeline.brokers.auth import broker_for_key
from tradeline.brokers.models import Broker, KeyKind
from tradeline.orders.models import Order
from tradeline.widget.models import DemoPage, WidgetFont, WidgetSort, WidgetTheme

# What the widget draws with when the broker has set nothing (AA contrast: #2563eb on white is 5.2:1).
DEFAULT_THEME = {
    "title": "Seasoned tradelines",
    "primary_color": "#2563eb",
    "text_color": "#1f2937",
    "background_color": "#ffffff",
    "font_family": WidgetFont.SYSTEM.value,
    "corner_radius": 12,
    "columns": 0,
    "default_sort": WidgetSort.PRICE_ASC.value,
}


def demo_page_current() -> DemoPage | None:
    return DemoPage.objects.select_related("broker").first()


def demo_page_key_live(page: DemoPage) -> bool:
    """Whether the page's publishable key still works for its broker (not revoked by a rotation)."""
    found = broker_for_key(page.publishable_key)
    return found is not None and found[0].pk == page.broker_id and found[1] == KeyKind.PUBLISHABLE


def widget_theme_get(*, broker: Broker) -> WidgetTheme | None:
    return WidgetTheme.objects.filter(broker=broker).first()


def widget_config(*, broker: Broker) -> dict:
    """`GET /api/public/config`: the broker's public name, theme (defaults filled in) and the return
    URLs the broker set (blank: checkout's defaults, see orders.services.checkout_return_urls)."""
    theme = widget_theme_get(broker=broker)
    values = dict(DEFAULT_THEME)
    success_url = cancel_url = ""
    if theme is not None:
        for name in DEFAULT_THEME:
            value = getattr(theme, name)
            if value not in ("", None):
                values[name] = value
        success_url, cancel_url = theme.success_url, theme.cancel_url
    return {
        "broker": {"id": str(broker.pk), "public_name": broker.business_name or broker.name},
        "theme": values,
        "return_urls": {"success_url": success_url, "cancel_url": cancel_url},
    }


def demo_order_for_return(*, session_id: str = "", order_number: str = "") -> Order | None:
    """The order a customer returns from Stripe for, by Checkout Session id or by order number
    (the demo success page shows only its number and status)."""
    fields = ("order_number", "status", "fulfillment_status", "total_charged")
    if session_id and len(session_id) <= 255 and "{" not in session_id:
        return Order.objects.filter(payments__stripe_session_id=session_id).only(*fields).first()
    if order_number and len(order_number) <= 32:
        return Order.objects.filter(order_number=order_number).only(*fields).first()
    return None
