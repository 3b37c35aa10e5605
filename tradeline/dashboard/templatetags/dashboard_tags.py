"""The admin overview's data, loaded by the admin index template (figures from analytics.selectors)."""

from django import template

from tradeline.analytics import selectors
from tradeline.payments.selectors import excess_payments_unrefunded

register = template.Library()


@register.simple_tag
def admin_overview() -> dict:
    excess = excess_payments_unrefunded()
    return {
        "periods": selectors.platform_overview(),
        "by_status": selectors.orders_by_status(),
        "attention": list(selectors.orders_needing_attention()),
        # Money taken twice: shown until its automatic refund succeeds.
        "excess": list(excess.select_related("order", "order__broker")[:25]),
        "attention_count": selectors.orders_needing_attention_count() + excess.count(),
        "daily": selectors.daily_sales(days=30),
        "funnel": selectors.broker_funnel(days=30),
    }
