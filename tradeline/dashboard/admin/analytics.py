from django.contrib import admin

from tradeline.analytics.models import BrokerDailyStats
from tradeline.core.money import format_usd
from tradeline.dashboard.admin_base import ReadOnlyAdmin


@admin.register(BrokerDailyStats)
class BrokerDailyStatsAdmin(ReadOnlyAdmin):
    money_fields = ('total_sales', 'revenue_share_earned', 'markup_earned', 'refunded_amount')
    list_display = ("date", "broker", "widget_loads", "unique_visitors", "cart_adds", "checkout_starts", "orders_count", "sales_col", "refunds_count")
    list_filter = ("broker", "date")
    list_select_related = ("broker",)
    date_hierarchy = "date"

    @admin.display(description="sales", ordering="total_sales")
    def sales_col(self, obj):
        return format_usd(obj.total_sales)
