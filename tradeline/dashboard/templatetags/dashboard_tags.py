"""The admin overview's data, loaded by the admin index template (figures from analytics.selectors)."""

from django import template

from tradeline.analytics import selectors

register = template.Library()


@register.simple_tag
def admin_overview() -> dict:
    return {
        "periods": selectors.platform_overview(),
        "by_status": selectors.orders_by_status(),
        "attention": list(selectors.orders_needing_attention()),
        "attention_count": selectors.orders_needing_attention_count(),
        "daily": selectors.daily_sales(days=30),
        "funnel": selectors.broker_funnel(days=30),
    }
