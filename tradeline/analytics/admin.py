from django.contrib import admin

from tradeline.analytics.models import BrokerDailyStats
from tradeline.core.admin_utils import MoneyReadOnlyAdmin


@admin.register(BrokerDailyStats)
class BrokerDailyStatsAdmin(MoneyReadOnlyAdmin):
    money_fields = ("total_sales", "revenue_share_earned", "markup_earned", "refunded_amount")
    list_display = ("date", "broker", "widget_loads", "checkout_starts", "orders_count", "total_sales_usd")
    list_filter = ("broker",)
