from django.contrib import admin

from tradeline.catalog.models import CatalogSync, Tradeline
from tradeline.core.money import format_usd
from tradeline.dashboard.admin_base import ReadOnlyAdmin


@admin.register(Tradeline)
class TradelineAdmin(ReadOnlyAdmin):
    money_fields = ('price', 'credit_limit')
    list_display = ("card_id", "bank_name", "limit_col", "date_opened", "reporting_period", "stock", "price_col",
                    "is_available", "synced_at")
    list_filter = ("is_available", "bank_name")
    search_fields = ("card_id", "bank_name")

    @admin.display(description="credit limit", ordering="credit_limit")
    def limit_col(self, obj):
        return format_usd(obj.credit_limit)

    @admin.display(description="base price", ordering="price")
    def price_col(self, obj):
        return format_usd(obj.price)


@admin.register(CatalogSync)
class CatalogSyncAdmin(ReadOnlyAdmin):
    list_display = ("created_at", "status", "rows_received", "rows_stored", "rows_skipped", "finished_at")
    list_filter = ("status",)
